"""The evaluation's words and lifecycle live in app/domain/evaluation.py, once.

(a) no status code, status label, grade or flag label is written anywhere else in the
application (its Python and its templates); (c) the tables agree with the default template.
"""

from __future__ import annotations

import ast
import re
from decimal import Decimal
from pathlib import Path

import pytest

from app.domain import evaluation as lifecycle
from app.domain.scoring import NATIONAL_2020, TemplateSettings

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = ROOT / "app" / "domain"


def _sources():
    for path in sorted((ROOT / "app").rglob("*.py")) + sorted((ROOT / "templates").rglob("*.html")):
        if DOMAIN in path.parents or "vendor" in path.parts:
            continue
        yield path


def _texts(path: Path):
    """(line, text) of what the file says to people or compares against: the string literals of
    Python (docstrings aside: they explain to programmers), the text of templates (comments aside)."""
    source = path.read_text(encoding="utf-8")
    if path.suffix == ".html":
        source = re.sub(r"\{#.*?#\}", lambda m: "\n" * m.group(0).count("\n"), source, flags=re.S)
        yield from enumerate(source.splitlines(), 1)
        return
    tree = ast.parse(source)
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            yield node.lineno, node.value


def _hits(pattern: re.Pattern[str], html_pattern: re.Pattern[str] | None = None) -> list[str]:
    found = []
    for path in _sources():
        use = html_pattern if (html_pattern is not None and path.suffix == ".html") else pattern
        for n, text in _texts(path):
            if use.search(text):
                found.append(f"{path.relative_to(ROOT)}:{n}: {text.strip()[:120]}")
    return found


def _words(words) -> re.Pattern[str]:
    """Each word standing alone: not inside a longer word (CJK characters are word characters)."""
    alternatives = "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))
    return re.compile(rf"(?<![\w])({alternatives})(?![\w])")


def test_no_status_code_written_outside_the_domain():
    codes = "|".join(re.escape(c) for c in lifecycle.STATUS_CODES)
    assert _hits(re.compile(rf"^({codes})$"), re.compile(rf"""["']({codes})["']""")) == []


def test_no_status_label_written_outside_the_domain():
    assert _hits(_words(s.label for s in lifecycle.STATUSES)) == []


def test_no_grade_written_outside_the_domain():
    grades = "|".join(re.escape(g) for g in lifecycle.grades(NATIONAL_2020))
    # A grade as a value of its own, or the grades listed: 优 / 良 / 中 / 差 (a 中 in a sentence is Chinese).
    listed = rf"({grades})[^\w]{{0,12}}({grades})[^\w]{{0,12}}({grades})"
    assert _hits(re.compile(rf"^({grades})$|{listed}"), re.compile(rf"""[>"']({grades})[<"']|{listed}""")) == []


def test_no_flag_label_written_outside_the_domain():
    texts = lifecycle.flag_texts(NATIONAL_2020).values()
    assert _hits(_words({t["label"] for t in texts} | {t["short"] for t in texts})) == []


# --- (c) the tables against the default template ------------------------------------------------


def test_grades_are_the_templates():
    assert lifecycle.grades(NATIONAL_2020) == ("优", "良", "中", "差")
    assert lifecycle.grade_rule_text(NATIONAL_2020) == "优（≥90）、良（80–<90）、中（60–<80）、差（<60）"
    other = TemplateSettings(grade_thresholds=(("A", Decimal(85)), ("B", Decimal(0))))
    assert lifecycle.grades(other) == ("A", "B") and lifecycle.grade_ranges(other) == {"A": "≥85", "B": "<85"}


def test_flag_wording_comes_from_the_template_settings():
    texts = lifecycle.flag_texts(NATIONAL_2020)
    assert "120%" in texts["over_achieved"]["short"] and "90%" in texts["execution_low"]["queue"]
    changed = TemplateSettings(over_achievement_percent=Decimal(150), execution_low_below=Decimal(85))
    texts = lifecycle.flag_texts(changed)
    assert "150%" in texts["over_achieved"]["short"] and "120" not in texts["over_achieved"]["label"]
    assert "85%" in texts["execution_low"]["label"] and "90" not in texts["execution_low"]["queue"]


def test_every_flag_the_engine_raises_has_words():
    from app.domain import scoring

    assert set(scoring.FLAG_LABELS) == set(lifecycle.FLAG_CODES)
    assert set(lifecycle.QUEUE_FLAG_CODES) <= set(lifecycle.FLAG_CODES)
    for text in lifecycle.flag_texts().values():
        assert "{" not in text["label"] + text["short"] + (text["queue"] or "")


def test_levels_are_the_templates_bands():
    assert set(NATIONAL_2020.qualitative_bands) == set(lifecycle.LEVELS) == set(lifecycle.LEVEL_LABELS)


def test_statuses_and_transitions_are_consistent():
    codes = set(lifecycle.STATUS_CODES)
    for row in lifecycle.TRANSITIONS:
        assert row.role in lifecycle.ROLES and row.scope in lifecycle.SCOPES
        assert set(row.sources) <= codes and (row.to is None or row.to in codes)
        assert row.action in lifecycle.ACTION_VERBS
    # every status but the first is reachable, and every status can be left (final by reopen)
    reached = {row.to for row in lifecycle.TRANSITIONS if row.to}
    assert reached == codes - {lifecycle.FIRST_STATUS}
    left = {s for row in lifecycle.TRANSITIONS if row.to for s in row.sources}
    assert left == codes


@pytest.mark.parametrize(
    ("role", "status", "actions"),
    [
        ("unit", "not_started", ("save", "submit")),
        ("unit", "draft", ("save", "submit")),
        ("unit", "submitted", ("withdraw",)),
        ("unit", "returned", ("save", "submit")),
        ("unit", "final", ()),
        ("department", "submitted", ("approve", "return")),
        ("department", "approved", ()),
        ("finance", "submitted", ("approve", "return")),
        ("finance", "approved", ("approve", "return")),
        ("finance", "final", ("reopen",)),
        ("admin", "submitted", ()),
    ],
)
def test_the_lifecycle_of_domain_md_section_1(role, status, actions):
    assert lifecycle.allowed_actions(lifecycle.RoleOnly(role), status) == actions


def test_a_token_is_asked_for_its_scope():
    class Token:
        role, scopes = "finance", ("read", "write")

    assert not lifecycle.may(Token(), "approve", "approved")
    Token.scopes = ("read", "review")
    assert lifecycle.outcome(Token(), "approve", "approved") == "final"
    assert not lifecycle.may(lifecycle.RoleOnly("unit"), "withdraw", "submitted", reviewed=True)
