"""Rewards and metrics for generated molecules (extra `chem`: RDKit)."""

__all__: list[str] = []
