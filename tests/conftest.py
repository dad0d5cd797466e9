"""Shared fixtures: the Chromium that pytest-playwright launches, service reachability, and
each test's own quotebot home (tests run in parallel, `make test` uses pytest-xdist)."""

from __future__ import annotations

import os
import resource
import socket
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, make_url, text

from bots import launch_options
from schemas.settings import Settings

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
PG_URL = os.environ.get("QUOTEBOT_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(autouse=True)
def _own_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """A quotebot home of the test's own: nothing falls back to ./var, shared by every
    parallel worker (a test that wants another home sets QUOTEBOT_HOME itself)."""
    monkeypatch.setenv("QUOTEBOT_HOME", str(tmp_path_factory.mktemp("home")))
    for name in ("QUOTEBOT_DATABASE_URL", "QUOTEBOT_ENGAGEMENTS", "QUOTEBOT_SECRETS_FILE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Launch the system Chromium (or Playwright's own) with quotebot's flags."""
    options = launch_options(Settings())
    return {**browser_type_launch_args, **options}


def reachable(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def require_service(name: str, host: str, port: int) -> None:
    """Skip with a reason where a service is unreachable; fail instead under CI=true."""
    if reachable(host, port):
        return
    message = f"{name} is not reachable at {host}:{port}"
    if IN_CI:
        pytest.fail(f"{message}, and CI=true requires it")
    pytest.skip(message)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL schema of the test's own (search_path), dropped afterwards."""
    url = make_url(PG_URL)
    require_service("PostgreSQL", url.host or "127.0.0.1", url.port or 5432)
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url)
    try:
        with admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        isolated = url.update_query_dict({"options": f"-csearch_path={schema}"})
        yield isolated.render_as_string(hide_password=False)
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    finally:
        admin.dispose()


@pytest.fixture
def quotebot_store(tmp_path: Any) -> Iterator[Any]:
    """Quotebot's own store in a real SQLite file of the test's, closed afterwards."""
    from store import open_store

    with open_store(f"sqlite:///{tmp_path / 'quotebot.sqlite'}") as store:
        yield store


@pytest.fixture(scope="session")
def web_output(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The bots' real work on a sandbox portal (quoted, flagged, failed, booked), shared by
    the web tests: one bot run for all of them."""
    from web_helpers import bot_output

    with bot_output(tmp_path_factory.mktemp("web")) as output:
        yield output


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The `slow` tests first: pytest-xdist hands tests out in collection order, and a
    minutes-long test handed out last keeps one worker busy after the others are done."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    before = _cpu_seconds()
    yield
    item.user_properties.append(("cpu_s", _cpu_seconds() - before))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Each test's CPU seconds, its set-up included (its process and the processes it waited
    for: browsers, Playwright's driver, `quotebot` subprocesses), listed at the end: on a
    two-core machine the suite's time is mostly CPU, and wall-clock durations hide who
    spends it."""
    before = _cpu_seconds()
    yield
    item.user_properties.append(("cpu_s", _cpu_seconds() - before))


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    waited = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + waited.ru_utime + waited.ru_stime


def pytest_terminal_summary(terminalreporter: Any) -> None:
    spent = sorted(
        (
            (sum(v for k, v in report.user_properties if k == "cpu_s"), report.nodeid)
            for reports in terminalreporter.stats.values()
            for report in reports
            if getattr(report, "when", None) == "call"
        ),
        reverse=True,
    )
    if not spent:
        return
    total = sum(seconds for seconds, _ in spent)
    terminalreporter.write_sep("=", f"CPU of the tests: {total:.0f} s in all; the 25 costliest")
    for seconds, nodeid in spent[:25]:
        terminalreporter.write_line(f"{seconds:8.1f} s  {nodeid}")
