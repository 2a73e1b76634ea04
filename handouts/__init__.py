"""handouts: turn health articles into branded, printable PDF patient leaflets.

The library API mirrors the command line::

    from handouts import load_config, build
    result = build(load_config("my-workspace"))
    print(result.summary())
"""

__version__ = "0.1.0"

# Imported after __version__: render reads it for the PDF's generator field.
from .build import BuildResult, LeafletResult, build, check, discover, init_workspace
from .config import Config, load_config
from .errors import (
    ConfigError,
    ContentError,
    HandoutsError,
    PdfError,
    TemplateError,
)
from .model import Article, Finding, Organisation
from .readers import read_article

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
