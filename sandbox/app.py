"""`create_app(config)`: one simulated client portal as a FastAPI app.

The core provides what every flavour shares: the `Portal` (`request.app.state.portal`),
sessions (`request.state.session`, `request.state.csrf_token`), login with CSRF and an
optional TOTP step, idle expiry (pages redirect to /login?next=…&expired=1, `/api/…`
answers 401), CSRF checks on every unsafe request (form field `csrf_token` or header
`X-CSRF-Token`), and fault injection. The flavour module `sandbox.<flavour>` exposes
`router: APIRouter` and is imported only when that flavour is served.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response

from sandbox import _login
from sandbox._faults import FaultInjector, FaultStats, Outage, OutageSwitch, make_portal
from sandbox._sessions import AUTHENTICATED, COOKIE, Session, SessionStore
from sandbox.config import SandboxConfig
from sandbox.portal import PortalValidationError

PUBLIC_PREFIXES = ("/login", "/logout", "/static/", "/healthz", "/favicon.ico")
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


async def require_csrf(request: Request) -> None:
    """Refuse an unsafe request without the session's CSRF token (header or form field)."""
    if request.method in SAFE_METHODS:
        return
    session: Session | None = request.state.session
    token = request.headers.get("x-csrf-token")
    if token is None and not _is_api(request):
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            value = (await request.form()).get("csrf_token")
            token = value if isinstance(value, str) else None
    if session is None or token != session.csrf_token:
        raise HTTPException(status_code=403, detail="missing or invalid CSRF token")


async def _authenticate(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    sessions: SessionStore = request.app.state.sessions
    session, expired = sessions.lookup(request.cookies.get(COOKIE))
    request.state.session = session
    request.state.csrf_token = session.csrf_token if session else ""
    request.state.username = session.username if session else None
    path = request.url.path
    if path.startswith(PUBLIC_PREFIXES) or (session and session.stage == AUTHENTICATED):
        return await call_next(request)
    if _is_api(request):
        reason = "session_expired" if expired else "not_logged_in"
        return JSONResponse({"error": reason, "message": "Please log in again."}, 401)
    target = path + (f"?{request.url.query}" if request.url.query else "")
    suffix = "&expired=1" if expired else ""
    return RedirectResponse(f"/login?next={quote(target)}{suffix}", status_code=303)


def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PortalValidationError)
    if _is_api(request):
        body = {"error": "validation", "field": exc.field, "message": exc.message}
        return JSONResponse(body, status_code=422)
    return PlainTextResponse(f"{exc.field}: {exc.message}", status_code=400)


def create_app(config: SandboxConfig) -> FastAPI:
    """The portal for `config.flavour`, serving the data generated in `config.data_dir`."""
    if not config.db_path.exists():
        raise FileNotFoundError(
            f"{config.db_path} does not exist: run `quotebot sandbox generate` first"
        )
    flavour = importlib.import_module(f"sandbox.{config.flavour}")
    flavour_router: APIRouter = flavour.router
    app = FastAPI(title=f"{config.flavour} portal (sandbox)", docs_url=None, redoc_url=None)
    app.state.config = config
    app.state.portal = make_portal(config.db_path, config.today, config.faults)
    app.state.sessions = SessionStore(
        config.session_ttl,
        lifetime=config.faults.session_lifetime,
        max_sessions=config.max_sessions,
    )
    app.state.login_env = _login.login_env(config.flavour)
    app.add_exception_handler(PortalValidationError, _validation_error)
    app.middleware("http")(_authenticate)
    app.include_router(_login.router)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok", "flavour": config.flavour}

    app.include_router(flavour_router, dependencies=[Depends(require_csrf)])

    @app.get("/", include_in_schema=False)
    def home() -> Response:
        return RedirectResponse("/opportunities", status_code=303)

    app.state.fault_stats = FaultStats()
    if config.faults.active:
        # Outermost: a fault happens before auth, before any handler, never after a write.
        app.add_middleware(FaultInjector, faults=config.faults, stats=app.state.fault_stats)
    app.state.outage = Outage()
    app.add_middleware(OutageSwitch, outage=app.state.outage)  # outermost: before any fault
    return app
