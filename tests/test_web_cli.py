"""The command line side of the web pages: people with hashed passwords, a refused default
secret key, and an audit trail that the database itself keeps append-only."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from quotebot import cli
from store import open_store
from web import DEFAULT_SECRET, UnsafeSecret, WebSettings, create_app, serve_demo


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
