"""The wheel `pip install .` builds (what the Dockerfile runs) holds every file the
service reads: templates, stylesheets, scripts — not only the Python modules."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).parents[2]
PACKAGES = ("domain", "projections", "api", "infra")


def _dockerfile_copies() -> list[str]:
    """The paths the Dockerfile copies into the image before `pip install .`."""
    copies: list[str] = []
    for line in (REPO / "Dockerfile").read_text().splitlines():
        found = re.match(r"COPY\s+(.+)\s+\S+$", line.strip())
        if found:
            copies += found.group(1).split()
    return copies


def _package_files() -> set[str]:
    """Every file under the packages, as a path in the wheel (caches left out)."""
    return {
        path.relative_to(REPO).as_posix()
        for package in PACKAGES
        for path in (REPO / package).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }


def test_the_wheel_holds_every_file_of_the_packages(tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    copies = _dockerfile_copies()
    assert set(PACKAGES) <= set(copies), copies
    for name in copies:  # what the image's build sees, and no stale build/ directory
        origin = REPO / name
        if origin.is_dir():
            shutil.copytree(origin, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(origin, source / name)

    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), "."],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        shipped = set(archive.namelist())

    missing = sorted(_package_files() - shipped)
    assert missing == [], f"files the wheel leaves out: {missing}"
    assert "api/web/templates/signin.html" in shipped
    assert "api/static/web/app.css" in shipped
