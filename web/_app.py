"""The app factory: sessions, security headers, error pages and the routers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path

from fastapi import Depends, FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles

from store import Store
from web import _alerts, _auth, _dashboard, _drift, _review, _runs, _schedule
from web._config import WebSettings
from web._deps import csrf_protect
from web._errors import add_handlers, secured
from web._security import COOKIE, Session, Sessions
from web._throttle import SignInThrottle


def create_app(
    store: Store,
    settings: WebSettings | None = None,
    *,
    engagements: Path | None = None,
    today: date | None = None,
    home: Path | None = None,
    host: str = "127.0.0.1",
) -> FastAPI:
    """The people's pages on `store`; `UnsafeSecret` outside the demo with the default key.

    `engagements` is the engagements file (schedules); `today` fixes the business date
    (demo and tests), else the real date; `home` is `QUOTEBOT_HOME`, where evidence paths
    are resolved from; `host` is where it is served (cookies are `Secure` off loopback).
    """
    settings = (settings or WebSettings()).checked()
    app = FastAPI(
        title="quotebot",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        dependencies=[Depends(csrf_protect)],
    )
    app.state.store = store
    app.state.settings = settings
    app.state.sessions = Sessions(
        settings.secret_key, settings.session_hours * 3600, settings.cookies_secure(host)
    )
    app.state.throttle = SignInThrottle(store)
    app.state.home = home or Path("var")
    app.state.engagements = engagements
    app.state.today = today
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    for module in (_auth, _review, _runs, _schedule, _dashboard, _alerts, _drift):
        app.include_router(module.router)
    add_handlers(app)
    app.middleware("http")(_session_cookie)
    return app


async def _session_cookie(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """Every visitor has a signed session (anonymous until sign-in) carrying the CSRF seed."""
    sessions: Sessions = request.app.state.sessions
    loaded = sessions.load(request.cookies.get(COOKIE))
    request.state.session = loaded or Session.anonymous()
    request.state.session_changed = loaded is None
    response = await call_next(request)
    if request.state.session_changed:
        response.set_cookie(
            COOKIE,
            sessions.dump(request.state.session),
            max_age=int(sessions.cookie_age_s),
            httponly=True,
            samesite="lax",
            secure=sessions.secure,
            path="/",
        )
    return secured(response)
