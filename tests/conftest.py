"""Shared fixtures: temporary workspaces with real files, and the golden-file switch."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from handouts.config import Config, load_config

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures"
SEEDS = REPO.parent / "shared" / "seeds"

CONFIG_YAML = """\
organisation:
  name: Testshire Hospitals
  department: Ward 9
  phone: 01632 960 123
  email: ward9@testshire.example
  website: www.testshire.example
brand:
  colour: "#005eb8"
sources:
  QuickTakes: {url: https://quicktakes.io}
leaflets:
  template: leaflet
  paper: A4
  review_months: 36
"""


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="Rewrite tests/golden/ from the current output instead of comparing",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


WriteFile = Callable[..., Path]


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty workspace with a handouts.yaml, as the current directory."""
    root = tmp_path / "ws"
    (root / "content").mkdir(parents=True)
    (root / "handouts.yaml").write_text(CONFIG_YAML, encoding="utf-8")
    monkeypatch.chdir(root)
    return root


@pytest.fixture
def write(workspace: Path) -> WriteFile:
    """Write a file into the workspace's content/ (text or bytes) and return its path."""

    def _write(name: str, content: str | bytes) -> Path:
        path = workspace / "content" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    return _write


@pytest.fixture
def config(workspace: Path) -> Config:
    return load_config(workspace)


@pytest.fixture
def fixture_articles(workspace: Path) -> Path:
    """The three fixture articles (one per shape) copied into the workspace's content/."""
    for source in FIXTURES.iterdir():
        shutil.copy(source, workspace / "content" / source.name)
    return workspace / "content"
