"""What every page needs: the signed-in person, their role, CSRF checks, rendering."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import date
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from schemas import words
from schemas.money import show_money
from schemas.people import Role, User
from schemas.work import WorkItem, outcome_label
from store import Store, UnknownRecord
from web import _compare
from web._security import Session, Sessions

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
# Autoescaping on for every template, whatever its file name: account names come from
# client portals and may hold markup.
TEMPLATES.env.autoescape = True


def merge_query(params: Mapping[str, str], **changes: object) -> str:
    """The page's own query string with `changes` made (the next page of the same filter)."""
    return urlencode({**dict(params), **{k: str(v) for k, v in changes.items()}})


TEMPLATES.env.filters["merge_query"] = merge_query
TEMPLATES.env.filters["outcome"] = outcome_label
TEMPLATES.env.globals.update(
    same=_compare.same,
    step_value=_compare.step_value,
    step_detail=_compare.step_detail,
    money_fields=_compare.MONEY_FIELDS,
)
# One vocabulary (schemas.words): templates never print a code where a word exists.
TEMPLATES.env.filters.update(
    {
        "money": show_money,
        "rule": words.rule_words,
        "field": words.field_words,
        "step": words.step_words,
        "decision": words.decision_words,
        "decided": words.decided_words,
        "severity": words.severity_words,
        "run_status": words.run_status_words,
        "kind": words.kind_words,
        "trail": words.trail_words,
        "said": words.value_words,
        "in_words": words.in_words,
        "without_code": words.without_code,
    }
)

# What each role may change; every role may read every page (managers read everything).
ACTS = {
    "review": {Role.AUDITOR},
    "operate": {Role.OPS},
}


class LoginRequired(Exception):
    """Raised for a page asked for without a valid session: the person goes to the login."""


class NotAllowed(Exception):
    """Raised when a person's role may not do what they asked (HTTP 403)."""


class CsrfRefused(Exception):
    """Raised for a form post without the session's CSRF token (HTTP 403)."""


def business_today(request: Request) -> date:
    """The business date: the one the app was started with (demo, tests), else today's."""
    fixed: date | None = request.app.state.today
    return fixed or store_of(request).now().date()


def store_of(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def sessions_of(request: Request) -> Sessions:
    sessions: Sessions = request.app.state.sessions
    return sessions


def session_of(request: Request) -> Session:
    session: Session = request.state.session
    return session


def current_user(request: Request) -> User:
    """The signed-in person, read afresh with their session: a session ended by sign-out,
    expiry, a password change or disabling, a removed account or changed role count at once."""
    session = session_of(request)
    user = store_of(request).session_user(session.sid) if session.user else None
    if user is None:
        raise LoginRequired()
    return user


class NotFound(Exception):
    """Raised for something that does not exist or belongs to an engagement the person does
    not work on (HTTP 404 both: a 403 would confirm it exists)."""

    def __init__(self, title: str, message: str = "") -> None:
        super().__init__(message)
        self.title = title
        self.message = message


class BadInput(Exception):
    """Raised for a query or form value a person typed that cannot be used (HTTP 400)."""

    def __init__(self, title: str, message: str) -> None:
        super().__init__(message)
        self.title = title
        self.message = message


def require_sees(user: User, engagement: str, title: str, message: str = "") -> None:
    """`NotFound` unless the person works on `engagement`."""
    if not user.sees(engagement):
        raise NotFound(title, message)


def visible_item(request: Request, user: User, item_id: int) -> WorkItem:
    """The work item, if it exists and belongs to an engagement the person works on; else
    `NotFound` with the same words either way."""
    message = f"There is no work item {item_id}."
    try:
        item = store_of(request).item(item_id)
    except UnknownRecord:
        raise NotFound("No such item", message) from None
    require_sees(user, item.engagement, "No such item", message)
    return item


def engagement_names(request: Request, user: User) -> list[str]:
    """The engagements the person works on, as the filters list them."""
    return [e.name for e in store_of(request).engagements() if user.sees(e.name)]


def may(user: User, act: str) -> bool:
    return user.role in ACTS[act]


def allowed_to(act: str) -> Callable[[User], User]:
    """A dependency: the signed-in person, if their role may `act`."""

    def check(user: Annotated[User, Depends(current_user)]) -> User:
        if not may(user, act):
            raise NotAllowed(f"a {user.role.value} may not {act}")
        return user

    return check


SignedIn = Annotated[User, Depends(current_user)]
Id = Annotated[int, PathParam(ge=1, le=2**63 - 1)]
"""A record id in a URL: past what the database holds is 'not found', not an overflow."""
Auditor = Annotated[User, Depends(allowed_to("review"))]
Operator = Annotated[User, Depends(allowed_to("operate"))]


async def csrf_protect(request: Request) -> None:
    """Every form post carries the session's CSRF token, or is refused."""
    if request.method in {"GET", "HEAD", "OPTIONS"}:
        return
    form = await request.form()
    if not sessions_of(request).csrf_ok(session_of(request), form.get("csrf_token")):
        raise CsrfRefused()


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A page, with the person, their CSRF token and what their role may do."""
    session = session_of(request)
    user: User | None = context.pop("user", None) or _signed_in_or_none(request)
    base = {
        "user": user,
        "csrf_token": sessions_of(request).csrf_token(session),
        "can_review": user is not None and may(user, "review"),
        "can_operate": user is not None and may(user, "operate"),
    }
    return TEMPLATES.TemplateResponse(
        request, template, {**base, **context}, status_code=status_code
    )


def _signed_in_or_none(request: Request) -> User | None:
    """The person, for pages (errors included) that keep the menu and sign-out."""
    session: Session | None = getattr(request.state, "session", None)
    if session is None or not session.user:
        return None
    try:
        return store_of(request).session_user(session.sid)
    except Exception:  # noqa: BLE001 - an error page must render even if the store cannot
        return None


Handler = Callable[[Request], Awaitable[Any]]
