"""MSSNet restoration engine: architecture, checkpoints, image I/O and tiled inference.

Exports are lazy (PEP 562) so `import models.restore_cli` and `import models.errors` stay
free of torch; the first access to e.g. `models.restore` imports what it needs.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "MSSNet": "models.mssnet",
    "CONFIGS": "models.mssnet",
    "load_model": "models.checkpoints",
    "save_weights": "models.checkpoints",
    "bundled_weights": "models.checkpoints",
    "restore": "models.engine",
    "estimate_seconds": "models.engine",
    "RestoreResult": "models.engine",
    "load_image": "models.imageio",
    "save_image": "models.imagesave",
    "LoadedImage": "models.imageio",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'models' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))
