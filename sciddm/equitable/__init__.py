"""Learning curves, budget allocation and adaptive data collection across groups (Cai et al.)."""

__all__: list[str] = []
