"""handouts.yaml: optional, and every problem reported at once with its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from handouts.config import ConfigError, load_config


def test_defaults_without_a_config_file(tmp_path: Path) -> None:
    config = load_config(tmp_path)
    assert config.path is None
    assert (config.template, config.paper, config.review_months) == ("leaflet", "A4", 36)
    assert config.brand_colour == "#005eb8"
    assert config.output == tmp_path.resolve() / "output"


def test_full_config(workspace: Path) -> None:
    (workspace / "assets").mkdir()
    (workspace / "assets" / "logo.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (workspace / "handouts.yaml").write_text(
        "organisation: {name: Trust, logo: assets/logo.svg}\n"
        "brand: {colour: '#AA3300'}\n"
        "sources: {QuickTakes: {url: 'https://quicktakes.io/'}}\n"
        "leaflets: {paper: a5, review_months: 24}\n"
    )
    config = load_config(workspace)
    assert config.organisation.name == "Trust"
    assert config.organisation.logo == workspace / "assets" / "logo.svg"
    assert config.brand_colour == "#aa3300"
    assert config.source_base("quicktakes") == "https://quicktakes.io"
    assert (config.paper, config.review_months) == ("A5", 24)


def test_every_error_is_reported_together(workspace: Path) -> None:
    (workspace / "handouts.yaml").write_text(
        "organisation:\n"
        "  name: Trust\n"
        "  logo: missing.png\n"
        "brand:\n"
        "  colour: blue\n"
        "sources:\n"
        "  Site: {url: quicktakes.io}\n"
        "leaflets:\n"
        "  paper: A3\n"
        "  review_months: forever\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(workspace)
    assert caught.value.message == (
        "handouts.yaml has 5 configuration errors:\n"
        "  handouts.yaml:3: organisation.logo: file 'missing.png' does not exist\n"
        "  handouts.yaml:5: brand.colour: expected a hex colour such as \"#005eb8\" (got 'blue')\n"
        "  handouts.yaml:7: sources.Site: url must start with https:// or http:// "
        "(got 'quicktakes.io')\n"
        "  handouts.yaml:9: leaflets.paper: expected one of: A4, A5, Letter (got 'A3')\n"
        "  handouts.yaml:10: leaflets.review_months: expected a whole number of months "
        "from 1 to 120 (got 'forever')"
    )


def test_unknown_settings_are_warnings(workspace: Path) -> None:
    (workspace / "handouts.yaml").write_text("organisation: {nmae: Trust}\ncolours: red\n")
    config = load_config(workspace)
    assert [str(w) for w in config.warnings] == [
        "handouts.yaml:2: colours: unknown setting "
        "(known: organisation, brand, sources, leaflets, packs)",
        "handouts.yaml:1: organisation.nmae: unknown setting "
        "(known: name, department, phone, email, website, address, logo)",
    ]


def test_invalid_yaml_is_one_clear_error(workspace: Path) -> None:
    (workspace / "handouts.yaml").write_text("organisation:\n  name: A: B\n")
    with pytest.raises(ConfigError) as caught:
        load_config(workspace)
    assert caught.value.message.startswith("handouts.yaml has 1 configuration error:\n")
    assert "handouts.yaml:2:" in caught.value.message


def test_logo_outside_the_workspace_is_refused(workspace: Path, tmp_path: Path) -> None:
    (tmp_path / "logo.svg").write_text("<svg/>")
    (workspace / "handouts.yaml").write_text("organisation: {logo: ../logo.svg}\n")
    with pytest.raises(ConfigError, match=r"'\.\./logo\.svg' is outside the workspace"):
        load_config(workspace)
