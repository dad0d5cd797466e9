"""Error pages: every refusal is a page with the security headers, never a bare 500 or JSON."""

from __future__ import annotations

import re
from urllib.parse import quote

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from loguru import logger
from starlette.exceptions import HTTPException

from store import UnknownRecord
from web._deps import BadInput, CsrfRefused, LoginRequired, NotAllowed, NotFound, render

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
log = logger.bind(part="web")


def secured(response: Response) -> Response:
    """The headers every answer carries, error pages included."""
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def _problem(error: RequestValidationError) -> tuple[int, str]:
    """The status and a sentence naming the parameter: a path that names nothing is a 404."""
    first = error.errors()[0] if error.errors() else {}
    where, *names = [str(part) for part in first.get("loc", ("request",))]
    name = ".".join(names) or where
    if where == "path":
        return 404, f"There is nothing at this address ({name} is not one we know)."
    return 400, f"The {name} given is not valid: {first.get('msg', 'unreadable')}."


_DECISION = re.compile(r"/review/([0-9]{1,18})")
PENDING = ("action", "note", "reason", "version")


async def _kept_decision(request: Request) -> Response | None:
    """A decision posted after the session ended: the login page, carrying it, so that
    after signing in it is shown again to save (nothing is saved unseen)."""
    found = _DECISION.fullmatch(request.url.path)
    if request.method != "POST" or found is None:
        return None
    form = await request.form()
    pending = {k: str(form.get(k) or "")[:20_000] for k in PENDING}
    pending["item"] = found.group(1)
    message = (
        "Your session ended before the decision was saved. Sign in again: it is kept, "
        "and shown to you to save."
    )
    target = f"/review/{found.group(1)}"
    return render(request, "login.html", 401, error=message, next=target, pending=pending)


def add_handlers(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, _exc: LoginRequired) -> Response:
        kept = await _kept_decision(request)
        if kept is not None:
            return kept
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

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound) -> Response:
        return render(request, "error.html", 404, title=exc.title, message=exc.message)

    @app.exception_handler(BadInput)
    async def bad_input(request: Request, exc: BadInput) -> Response:
        return render(request, "error.html", 400, title=exc.title, message=exc.message)

    @app.exception_handler(UnknownRecord)
    async def unknown_record(request: Request, exc: UnknownRecord) -> Response:
        return render(request, "error.html", 404, title="Not found", message=str(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        status, message = _problem(exc)
        title = "Not found" if status == 404 else "Not understood"
        return render(request, "error.html", status, title=title, message=message)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        title = "Not found" if exc.status_code == 404 else "Not possible"
        message = "There is no page at this address." if exc.status_code == 404 else ""
        response = render(request, "error.html", exc.status_code, title=title, message=message)
        for key, value in (exc.headers or {}).items():
            response.headers[key] = value
        return response

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> Response:
        # Outside the middleware that adds the headers: add them here.
        log.opt(exception=exc).error("{} {} failed", request.method, request.url.path)
        message = "Something went wrong on our side; it has been logged."
        return secured(render(request, "error.html", 500, title="Error", message=message))
