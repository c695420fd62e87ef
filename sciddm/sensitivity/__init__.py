"""l_p sensitivities, Lewis weights, leverage scores, l_p row sampling and regression (Woodruff & Yasuda)."""

__all__: list[str] = []
