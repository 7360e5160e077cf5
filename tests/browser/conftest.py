"""Playwright against the Debian Chromium (no downloaded browser): the launch arguments, and a loud
skip when the browser is missing (CI installs it and treats any skip as a failure)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

# Shared machines are noisy: give the page time to answer rather than fail on a slow second.
expect.set_options(timeout=20_000)

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
_missing: list[str] = []


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not CHROMIUM.exists():
        reason = f"BROWSER TESTS SKIPPED: {CHROMIUM} is missing (apt-get install -y chromium fonts-wqy-zenhei)"
        _missing.append(reason)
        pytest.skip(reason)
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }


@pytest.fixture
def artifacts() -> Path:
    """Where screenshots go (test-artifacts/, kept by CI)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def pytest_terminal_summary(terminalreporter):
    if _missing:
        terminalreporter.write_sep("!", "BROWSER TESTS WERE SKIPPED", red=True, bold=True)
        terminalreporter.write_line(_missing[0], red=True)


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1440, "height": 900}, "locale": "zh-CN"}
