"""handouts: turn health articles into branded, printable PDF patient leaflets.

The library API mirrors the command line::

    from handouts import load_config, build
    result = build(load_config("my-workspace"))
    print(result.summary())
"""

__version__ = "0.1.0"

# Imported after __version__: render reads it for the PDF's generator field.
from .build import BuildResult, LeafletResult, build, check, discover, init_workspace  # noqa: E402
from .config import Config, load_config  # noqa: E402
from .errors import (  # noqa: E402
    BuildFailed,
    ConfigError,
    ContentError,
    HandoutsError,
    PdfError,
    TemplateError,
)
from .model import Article, Finding, Organisation  # noqa: E402
from .readers import read_article  # noqa: E402

__all__ = [
    "Article",
    "BuildFailed",
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
