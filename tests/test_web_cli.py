"""The command line side of the web pages: people with hashed passwords, a refused default
secret key, and an audit trail that the database itself keeps append-only."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from web_site import SECRET, signed_in, two_clients_site

from quotebot import cli
from store import open_store
from web import DEFAULT_SECRET, UnsafeSecret, WebSettings, create_app, serve_demo


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for(url: str, server: subprocess.Popen[bytes] | None = None, seconds: float = 120) -> None:
    """Until the page answers: a server process on a loaded machine may take a while to
    import and migrate; one that exited will never answer."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.TransportError:
            if time.monotonic() > deadline or (server is not None and server.poll() is not None):
                raise
            time.sleep(0.2)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name in ("QUOTEBOT_SECRET_KEY", "QUOTEBOT_DEMO"):
        monkeypatch.delenv(name, raising=False)
    return {"QUOTEBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'quotebot.sqlite'}"}


def test_users_are_added_with_a_role_and_an_argon2_hash_only(env: dict[str, str]) -> None:
    runner = CliRunner()
    result = runner.invoke(
        cli,
        ["users", "add", "alice", "--role", "auditor"],
        env=env,
        input="s3cret-enough\ns3cret-enough\n",
    )
    assert result.exit_code == 0, result.output
    again = runner.invoke(
        cli, ["users", "add", "alice", "--role", "ops"], env=env, input="another-one\nanother-one\n"
    )
    assert again.exit_code != 0 and "already exists" in again.output
    short = runner.invoke(
        cli, ["users", "add", "bob", "--role", "ops"], env=env, input="short\nshort\n"
    )
    assert short.exit_code != 0 and "8 characters" in short.output
    with open_store(env["QUOTEBOT_DATABASE_URL"]) as store:
        assert [(u.name, u.role.value) for u in store.users()] == [("alice", "auditor")]
        stored = store.password_hash("alice") or ""
    assert stored.startswith("$argon2id$") and "s3cret" not in stored


def test_the_app_refuses_to_start_with_the_default_secret_outside_the_demo(
    env: dict[str, str],
) -> None:
    with open_store(env["QUOTEBOT_DATABASE_URL"]) as store:
        with pytest.raises(UnsafeSecret):
            create_app(store, WebSettings(secret_key=DEFAULT_SECRET))
        with pytest.raises(UnsafeSecret):
            create_app(store, WebSettings(secret_key="short"))
        create_app(store, WebSettings(secret_key=DEFAULT_SECRET, demo=True))
    result = CliRunner().invoke(cli, ["serve", "--port", "0"], env=env)
    assert result.exit_code != 0
    assert "QUOTEBOT_SECRET_KEY" in result.output


def test_the_audit_trail_is_append_only_in_the_database(env: dict[str, str]) -> None:
    with open_store(env["QUOTEBOT_DATABASE_URL"]) as store:
        store.record_action("olga", "schedule_paused", "acme quote", before={"paused": False})
        for sql in ("UPDATE audit_trail SET actor = 'mallory'", "DELETE FROM audit_trail"):
            with pytest.raises(DBAPIError, match="append-only"):
                with store.engine.begin() as connection:
                    connection.execute(text(sql))
        assert [t.actor for t in store.trail()] == ["olga"]


def test_the_demo_serves_the_pages_with_one_person_per_role(env: dict[str, str]) -> None:
    with open_store(env["QUOTEBOT_DATABASE_URL"]) as store:
        server, people = serve_demo(store, engagements=None, today=None, port=0)
        try:
            with httpx.Client(base_url=server.base_url) as client:
                page = client.get("/login").text
                token = re.search(r'name="csrf_token" value="([^"]+)"', page)
                assert token is not None
                signed_in = client.post(
                    "/login",
                    data={
                        "username": "manager",
                        "password": people["manager"],
                        "csrf_token": token.group(1),
                    },
                    follow_redirects=True,
                )
                assert signed_in.url.path == "/dashboard"
                assert "quotes entered" in signed_in.text
        finally:
            server.stop()
        assert {u.role.value for u in store.users()} == {"auditor", "ops", "manager"}


def test_serve_started_from_another_folder_finds_every_screenshot_and_trace(
    tmp_path: Path,
) -> None:
    with two_clients_site(tmp_path / "data") as site:
        files = [
            (item_id, e)
            for ids in site.items.values()
            for item_id in ids.values()
            for e in site.store.evidence(item_id)
        ]
        assert len(files) == 4 and not any(Path(e.path).is_absolute() for _, e in files)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    port = free_port()
    env = {
        **os.environ,
        "QUOTEBOT_HOME": str(site.home),
        "QUOTEBOT_SECRET_KEY": SECRET,
    }
    env.pop("QUOTEBOT_DATABASE_URL", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "quotebot", "serve", "--port", str(port)],
        cwd=elsewhere,
        env=env,
    )
    try:
        site.base_url = f"http://127.0.0.1:{port}"
        wait_for(site.base_url + "/login", server)
        mia = signed_in(site, "mia")
        for item_id, evidence in files:
            answer = mia.get(f"/items/{item_id}/evidence/{evidence.id}")
            assert answer.status_code == 200, answer.text[:200]
            assert answer.content == (site.home / evidence.path).read_bytes()
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert not (elsewhere / "var").exists()
