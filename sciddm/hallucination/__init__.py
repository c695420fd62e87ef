"""Mode interpolation and the trajectory-variance hallucination detector (Aithal et al.)."""

__all__: list[str] = []
