"""SECURITY.md's claims each point at a test: every test it names exists, and it names some of each
file it cites (so a renamed or deleted test makes the threat model fail here, not silently rot)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = re.compile(r"(tests/[\w/]+\.py)::(\w+)")


def _references() -> list[tuple[str, str]]:
    return REFERENCE.findall((ROOT / "SECURITY.md").read_text(encoding="utf-8"))


def _tests_in(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}


def test_every_test_security_md_names_exists():
    references = _references()
    assert len(references) >= 40  # the threat model is backed by tests, not prose
    missing = []
    for file, name in references:
        path = ROOT / file
        if not path.is_file() or not name.startswith("test_") or name not in _tests_in(path):
            missing.append(f"{file}::{name}")
    assert not missing, f"SECURITY.md names tests that do not exist: {missing}"


def test_security_md_has_actors_defences_and_what_is_out_of_scope():
    text = (ROOT / "SECURITY.md").read_text(encoding="utf-8")
    for heading in ("## 参与者", "## 防什么、怎样防", "## 不在防护范围内"):
        assert heading in text
