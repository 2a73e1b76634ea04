"""``handouts doctor``: what this machine renders with, and what is missing."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field

from . import __version__
from .cache import harfbuzz_version
from .config import Config
from .render import template_roots

FONT_SUFFIXES = (".ttf", ".otf", ".woff", ".woff2", ".ttc")


@dataclass
class Report:
    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def diagnose(config: Config) -> Report:
    """Collect versions, the subset library's presence, and the fonts found."""
    from .pdf import engine_report

    report = Report()
    report.lines.append(f"handouts {__version__}")
    engine = engine_report()
    engine["HarfBuzz"] = harfbuzz_version()
    width = max(len(name) for name in engine)
    for name, value in engine.items():
        report.lines.append(f"{name:<{width}}  {value}")
    if engine["HarfBuzz subset library"] != "present":
        report.problems.append(
            "the HarfBuzz subset library is missing: every PDF takes several times longer "
            "to write (Debian/Ubuntu: apt-get install libharfbuzz-subset0)"
        )

    report.lines.append("Fonts shipped with the templates:")
    bundled = sorted(
        {
            font.name
            for root in template_roots(config)
            for font in root.rglob("*")
            if font.suffix.lower() in FONT_SUFFIXES
        }
    )
    report.lines.extend(f"  {name}" for name in bundled or ["(none)"])
    families = _system_families()
    if families is None:
        report.lines.append("System fonts: fontconfig's fc-list is not available")
    else:
        report.lines.append(
            f"System fonts (used only for characters the template fonts lack): "
            f"{len(families)} families"
        )
    return report


def _system_families() -> list[str] | None:
    if shutil.which("fc-list") is None:
        return None
    listed = subprocess.run(
        ["fc-list", ":", "family"], capture_output=True, text=True, check=False
    ).stdout
    return sorted({line.split(",")[0].strip() for line in listed.splitlines() if line.strip()})
