"""Helpers for bot tests: an engagement pointed at a running sandbox portal."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from sandbox_helpers import RunningPortal

from schemas.engagement import Engagement, QuoteWindow

REPO = Path(__file__).resolve().parents[1]
SELECTORS = REPO / "selectors"


def engagement_for(
    portal: RunningPortal, *, name: str | None = None, **overrides: Any
) -> Engagement:
    """An engagement on `portal`; its credentials go into the environment, as in production."""
    flavour = portal.config.flavour
    prefix = f"QB_TEST_{flavour.upper()}"
    os.environ[f"{prefix}_USER"] = portal.credentials.username
    os.environ[f"{prefix}_PASSWORD"] = portal.credentials.password
    os.environ[f"{prefix}_TOTP"] = portal.credentials.totp_secret
    fields: dict[str, Any] = {
        "name": name or flavour,
        "flavour": flavour,
        "url": portal.base_url,
        "username_env": f"{prefix}_USER",
        "password_env": f"{prefix}_PASSWORD",
        "totp_env": f"{prefix}_TOTP" if portal.config.totp else None,
        "selectors": SELECTORS / f"{flavour}.yaml",
        "rules": portal.config.rules_path,
        "window": QuoteWindow(days_from=0, days_to=400),
        "workers": 2,
    }
    fields.update(overrides)
    return Engagement(**fields)


def due_ids(portal: RunningPortal, engagement: Engagement) -> set[str]:
    """What the portal itself says is due in the engagement's window."""
    from datetime import timedelta

    today = portal.config.today
    with portal.open_db() as db:
        page = db.list_opportunities(
            end_from=today + timedelta(days=engagement.window.days_from),
            end_to=today + timedelta(days=engagement.window.days_to),
            per_page=200,
        )
    return {o.opportunity_id for o in page.items}


def write_engagements(path: Path, engagements: list[Engagement]) -> Path:
    """An engagements file as operations staff would write it."""
    import yaml

    docs = [e.model_dump(mode="json", exclude_none=True) for e in engagements]
    path.write_text(yaml.safe_dump({"engagements": docs}, sort_keys=False), encoding="utf-8")
    return path


def portal_env(engagement: Engagement) -> dict[str, str]:
    """The environment a bot process needs: the credentials its engagement names."""
    names = [engagement.username_env, engagement.password_env, engagement.totp_env]
    return {n: os.environ[n] for n in names if n}


def bot_process(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    """`quotebot ARGS` in a process group of its own: SIGKILL to the group kills the bot and
    its browsers at once, as a crash would."""
    return subprocess.Popen(
        [sys.executable, "-m", "quotebot", *args],
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
