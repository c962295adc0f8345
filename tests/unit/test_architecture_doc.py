"""docs/architecture.md lists every package and module once, as they are: its tree is
generated from the code (tests/architecture_tree.py) and checked here."""

from __future__ import annotations

import re

from tests.architecture_tree import PACKAGES, REPO, documented, summary, tree


def test_every_module_has_a_docstring_to_list() -> None:
    silent = [
        str(path.relative_to(REPO))
        for package in PACKAGES
        for path in (REPO / package).rglob("*.py")
        if not summary(path)
    ]
    assert silent == []


def test_the_document_lists_the_modules_as_the_code_has_them() -> None:
    listed = documented()
    names = re.findall(r"^\s*- `([^`]+)`", listed, flags=re.MULTILINE)
    assert len(names) == len(tree().splitlines())
    assert listed == tree(), (
        "docs/architecture.md's module tree is out of date: "
        "run `python -m tests.architecture_tree --write`"
    )
