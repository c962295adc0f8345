"""Comments and docstrings say what and why: an issue number means nothing to a reader
of the repository (the tracker is not part of it)."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).parents[2]
FOLDERS = ("domain", "projections", "infra", "api", "tests", "bench")
ISSUE = re.compile(r"\bissues? ?#?\d+", re.IGNORECASE)


def test_no_comment_cites_an_issue_number() -> None:
    cited = [
        f"{path.relative_to(REPO)}:{number}: {line.strip()}"
        for folder in FOLDERS
        for path in (REPO / folder).rglob("*")
        if path.suffix in {".py", ".html", ".toml"}
        and "vendor" not in path.parts
        and "node_modules" not in path.parts
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
        if ISSUE.search(line)
    ]
    assert cited == []
