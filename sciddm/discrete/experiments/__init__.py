"""Registered reproductions of the discrete family.

Each module of this package (training, sampling, guidance) registers its
experiments with :func:`sciddm._core.registry.register` when imported.
"""

import importlib
import pkgutil

for _info in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_info.name}")
