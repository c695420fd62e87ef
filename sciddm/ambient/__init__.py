"""Learning diffusion models and distributions from noisy data, and their scaling laws (Daras et al.)."""

__all__: list[str] = []
