"""Rewards, oracles and metrics for DNA sequences (extra `dna`: pyjaspar, biopython, logomaker)."""

__all__: list[str] = []
