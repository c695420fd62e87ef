"""Continuous diffusion core: schedules, samplers, closed-form Gaussian / mixture / empirical denoisers and analytical teleportation (Wang & Vastola)."""

__all__: list[str] = []
