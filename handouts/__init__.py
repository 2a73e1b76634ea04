"""handouts: turn health articles into branded, printable PDF patient leaflets.

The library API mirrors the command line::

    from handouts import load_config, build
    result = build(load_config("my-workspace"))
    print(result.summary())
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# Names are loaded on first use (PEP 562): a rendering worker imports
# ``handouts.workers`` and must not pay for the readers, Jinja2 and Babel.
_EXPORTS = {
    "BuildResult": "build",
    "LeafletResult": "build",
    "build": "build",
    "check": "build",
    "discover": "build",
    "init_workspace": "build",
    "Config": "config",
    "load_config": "config",
    "ConfigError": "errors",
    "ContentError": "errors",
    "HandoutsError": "errors",
    "PdfError": "errors",
    "TemplateError": "errors",
    "Article": "model",
    "Finding": "model",
    "Organisation": "model",
    "read_article": "readers",
}

if TYPE_CHECKING:
    from .build import BuildResult, LeafletResult, build, check, discover, init_workspace
    from .config import Config, load_config
    from .errors import ConfigError, ContentError, HandoutsError, PdfError, TemplateError
    from .model import Article, Finding, Organisation
    from .readers import read_article


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'handouts' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


__all__ = [
    "Article",
    "BuildResult",
    "Config",
    "ConfigError",
    "ContentError",
    "Finding",
    "HandoutsError",
    "LeafletResult",
    "Organisation",
    "PdfError",
    "TemplateError",
    "__version__",
    "build",
    "check",
    "discover",
    "init_workspace",
    "load_config",
    "read_article",
]
