"""Schemathesis against every /api/v1 operation of the OpenAPI document, with valid tokens: any 5xx or
a status code the document does not declare fails the test. Bounded (examples per operation, no
shrinking, a fixed seed) so it runs in CI on every change."""

from __future__ import annotations

import time

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import status_code_conformance

from tests.api.read_data import build

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # one database: a bounded run
EXAMPLES = 12  # per operation and token: every operation is exercised, the run stays under ~2 minutes


def _runner(operation, headers: dict):
    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case):
        case.call_and_validate(headers=headers, checks=[not_a_server_error, status_code_conformance])

    return run


def test_no_operation_answers_5xx_or_an_undocumented_status(app, client, session):
    world = build(session)
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 30
    started = time.monotonic()
    for operation in operations:
        # the bureau's token (every scope it may carry) and a unit's, in turn
        for who in ("finance", "unit_a1"):
            headers = {"Authorization": f"Bearer {world.secrets[who]}"}

            run = _runner(operation, headers)
            try:
                run()
            except BaseException as exc:  # noqa: BLE001 — collected, reported together
                if isinstance(exc, KeyboardInterrupt):
                    raise
                found = [str(e).strip() for e in getattr(exc, "exceptions", [])] or [str(exc).strip()]
                lines = "\n".join(line for text in found for line in text.splitlines()[:4])
                failures.append(f"{operation.method.upper()} {operation.path} as {who}:\n{lines}")
    assert not failures, "\n\n".join(failures)
    took = time.monotonic() - started
    print(f"schemathesis: {len(operations)} operations × 2 tokens × ≤{EXAMPLES} examples in {took:.0f} s")
