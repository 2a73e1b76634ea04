"""The built wheel works on its own: templates, fonts and starter files travel with it."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from .conftest import REPO


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(REPO)],
        check=True,
        capture_output=True,
    )
    [built] = out.glob("handouts-*.whl")
    return built


def test_wheel_contains_templates_fonts_and_starter(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "handouts/templates/leaflet/leaflet.html",
        "handouts/templates/leaflet/leaflet.css",
        "handouts/templates/fonts/LiberationSans-Regular.ttf",
        "handouts/templates/fonts/OFL.txt",
        "handouts/starter/handouts.yaml",
        "handouts/starter/content/example.md",
    ):
        assert needed in names


def test_installed_wheel_builds_a_new_workspace(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--target",
            str(site),
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    where = subprocess.run(
        [sys.executable, "-c", "import handouts; print(handouts.__file__)"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert where.stdout.startswith(str(site))  # not the checkout
    for args in (["init", "ws"], ["build", "-w", "ws"]):
        done = subprocess.run(
            [sys.executable, "-m", "handouts", *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
    assert (tmp_path / "ws" / "output" / "example.pdf").stat().st_size > 1000
