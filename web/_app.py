"""The app factory: sessions, security headers, error pages and the routers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request, Response
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from store import Store
from web import _auth, _dashboard, _review, _runs, _schedule
from web._config import WebSettings
from web._deps import CsrfRefused, LoginRequired, NotAllowed, csrf_protect, render
from web._security import COOKIE, Session, Sessions, UnknownNameThrottle

_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def create_app(
    store: Store,
    settings: WebSettings | None = None,
    *,
    engagements: Path | None = None,
    today: date | None = None,
) -> FastAPI:
    """The people's pages on `store`; `UnsafeSecret` outside the demo with the default key.

    `engagements` is the engagements file (schedules); `today` fixes the business date
    (demo and tests), else the real date.
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
        settings.secret_key, settings.session_hours * 3600, settings.secure_cookies
    )
    app.state.throttle = UnknownNameThrottle()
    app.state.engagements = engagements
    app.state.today = today
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    for module in (_auth, _review, _runs, _schedule, _dashboard):
        app.include_router(module.router)
    _handlers(app)
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
            max_age=int(sessions.max_age_s),
            httponly=True,
            samesite="lax",
            secure=sessions.secure,
            path="/",
        )
    response.headers["Content-Security-Policy"] = _CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def _handlers(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, _exc: LoginRequired) -> Response:
        target = request.url.path
        if request.url.query:
            target += "?" + request.url.query
        if request.method != "GET":
            target = "/"
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)

    @app.exception_handler(NotAllowed)
    async def not_allowed(request: Request, exc: NotAllowed) -> Response:
        return render(request, "error.html", 403, title="Not allowed", message=str(exc))

    @app.exception_handler(CsrfRefused)
    async def csrf_refused(request: Request, _exc: CsrfRefused) -> Response:
        message = "The form was refused: it did not carry this session's security token."
        return render(request, "error.html", 403, title="Form refused", message=message)
