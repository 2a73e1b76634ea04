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
    report.lines.append("Languages with printed labels, and the font that draws them:")
    for language, font, problem in _languages(config):
        report.lines.append(f"  {language:<8} {font}")
        if problem:
            report.problems.append(problem)
    families = _system_families()
    if families is None:
        report.lines.append("System fonts: fontconfig's fc-list is not available")
    else:
        report.lines.append(
            f"System fonts (used only for characters the template fonts lack): "
            f"{len(families)} families"
        )
    return report


_FONTCONFIG_LANG = {"zh-hans": "zh-cn", "zh-hant": "zh-tw"}
_PREFERRED = {  # the families templates/leaflet/leaflet.css names for these scripts
    "zh-cn": "Noto Sans CJK SC", "zh-tw": "Noto Sans CJK TC", "ja": "Noto Sans CJK JP",
    "ko": "Noto Sans CJK KR", "ar": "Noto Sans Arabic", "fa": "Noto Sans Arabic",
    "ur": "Noto Sans Arabic",
}  # fmt: skip
_INSTALL = {"zh": "fonts-noto-cjk", "ja": "fonts-noto-cjk", "ko": "fonts-noto-cjk"}


def _languages(config: Config) -> list[tuple[str, str, str | None]]:
    """For each label catalogue: the font that covers its text, or the problem."""
    from fontTools.ttLib import TTFont

    from .render import LABELS_DIR, label_catalogues, read_labels

    bundled = sorted(
        font for root in template_roots(config) for font in (root / "fonts").glob("*Regular.ttf")
    )
    covered: set[int] = set()
    names = []
    for font in bundled:
        with TTFont(font, lazy=True) as face:
            covered |= set(face.getBestCmap())
            names.append(face["name"].getDebugName(1) or font.stem)
    rows: list[tuple[str, str, str | None]] = []
    for tag, path in sorted(label_catalogues(config).items()):
        text = "".join(read_labels(path, config).values())
        needed = {ord(c) for c in text if not c.isspace() and not c.isdigit()}
        if needed <= covered:
            rows.append((path.stem, f"{', '.join(names)} (shipped with the templates)", None))
            continue
        lang = _FONTCONFIG_LANG.get(tag, tag.split("-")[0])
        families = _fc_families(f":lang={lang}")
        if families:
            preferred = _PREFERRED.get(lang)
            rows.append((path.stem, preferred if preferred in families else families[0], None))
        else:
            package = _INSTALL.get(lang.split("-")[0], "fonts-noto-core")
            rows.append((
                path.stem, "NONE: text would print as empty boxes",
                f"no font for {path.stem} text (templates/{LABELS_DIR}/{path.name}); "
                f"install one (Debian: apt-get install {package})",
            ))  # fmt: skip
    return rows


def _fc_families(pattern: str) -> list[str]:
    if shutil.which("fc-list") is None:
        return []
    listed = subprocess.run(
        ["fc-list", pattern, "family"], capture_output=True, text=True, check=False
    ).stdout
    families = sorted({line.split(",")[0].strip() for line in listed.splitlines() if line.strip()})
    # Prefer the sans-serif faces the templates ask for.
    return sorted(families, key=lambda f: ("Sans" not in f, "Noto" not in f, f))


def _system_families() -> list[str] | None:
    if shutil.which("fc-list") is None:
        return None
    listed = subprocess.run(
        ["fc-list", ":", "family"], capture_output=True, text=True, check=False
    ).stdout
    return sorted({line.split(",")[0].strip() for line in listed.splitlines() if line.strip()})
