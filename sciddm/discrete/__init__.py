"""Masked discrete diffusion (MDLM) for molecules and DNA: data, training, exact fast samplers and reward-guided decoding."""

__all__: list[str] = []
