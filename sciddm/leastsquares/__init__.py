"""Optimal weighted least squares: i.i.d. Christoffel sampling, projection DPPs, volume and generalized volume sampling (Nouy & Michel)."""

__all__: list[str] = []
