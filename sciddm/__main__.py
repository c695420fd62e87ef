"""``python -m sciddm``: the same as the ``sciddm`` console script."""

from sciddm.cli import main

if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
