"""The arrows point inward: the core does not load the web framework, the two faces do not
import each other, and route modules hold no ORM queries."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def _modules(package: str):
    return sorted((ROOT / "app" / package).glob("*.py"))


def test_the_services_and_the_domain_load_without_the_web_framework():
    code = (
        "import sys, app.services.evaluations, app.services.reviews, app.services.queries, "
        "app.services.imports, app.services.engine, app.security; "
        "print(sorted(m for m in ('fastapi', 'starlette') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_security_imports_no_service_and_no_framework():
    imported = _imports(ROOT / "app" / "security.py")
    assert not any(m.startswith(("app.services", "fastapi", "starlette", "app.db")) for m in imported)


def test_the_two_faces_do_not_import_each_other():
    for path in _modules("api"):
        assert not any(m.startswith("app.web") for m in _imports(path)), path
    for path in _modules("web"):
        assert not any(m.startswith("app.api") for m in _imports(path)), path


def test_no_orm_query_in_route_modules():
    for path in _modules("web") + _modules("api"):
        text = path.read_text(encoding="utf-8")
        for call in ("session.exec(", "session.get(", "session.execute(", "session.query("):
            assert call not in text, f"{path.relative_to(ROOT)}: {call}"
