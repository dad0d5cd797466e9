"""Operations' repair pages: the drift tickets, a ticket's evidence and the map patch it
proposes, Approve (a new version of the engagement's selector map), and the map's history
with a way back to an earlier version."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse, RedirectResponse

from schemas.fingerprint import Candidate, DriftTicket
from schemas.people import User
from store import StoreError, UnknownRecord
from web._deps import Id, NotFound, Operator, SignedIn, render, require_sees, store_of

router = APIRouter()

PAGES = {
    "login": "the login page",
    "totp": "the second-factor page",
    "home": "the portal's home page",
    "opportunities": "the opportunities list",
    "opportunity": "the opportunity page",
    "editor": "the quote editor",
    "draft_editor": "the draft quote editor",
    "quote_search": "the quote search",
    "quote": "the quote page",
    "booking": "the booking form",
}
"""Each page of a selector map, as operations name it."""

KINDS = {
    "button": "button",
    "a": "link",
    "input": "field",
    "select": "list",
    "textarea": "field",
    "td": "column",
    "th": "column",
}
PROPERTIES = {
    "tag": "kind of element",
    "type": "input type",
    "role": "role",
    "name": "accessible name",
    "label": "label",
    "id": "id",
    "field_name": "form name",
    "test_id": "test id",
    "data": "data attributes",
    "classes": "classes",
    "text": "text",
    "shape": "shape of the value",
    "neighbours": "texts around it",
    "header": "column header",
    "column": "column",
    "path": "place in the page",
    "form_index": "place in its form",
    "box": "position on screen",
}
"""The fingerprint's properties in words (a candidate's matched / differed ones)."""


def key_words(ticket: DriftTicket) -> str:
    """'the Next button on the opportunities list can no longer be found'."""
    page, *rest = ticket.key.split(".")
    where = PAGES.get(page, f"the {page.replace('_', ' ')} page")
    best = _best(ticket)
    tag = best.tag if best else ("button" if ticket.write else "")
    if len(rest) == 2:
        element = f"the {rest[1].replace('_', ' ')} column of the {rest[0].replace('_', ' ')}"
    else:
        name = rest[0].replace("_", " ")
        name = name[:1].upper() + name[1:] if tag in {"button", "a"} else name
        kind = KINDS.get(tag, "")
        element = f"the {name} {kind}".rstrip()
    check = ticket.check
    what = (
        "now finds another element"
        if check is not None and check.status == "changed"
        else "can no longer be found"
    )
    return f"{element} on {where} {what}"


def _best(ticket: DriftTicket) -> Candidate | None:
    found = ticket.check.suggestion if ticket.check else None
    return found.candidates[0] if found and found.candidates else None


@dataclass(frozen=True)
class CandidateLine:
    """A candidate as the ticket page lists it, in words."""

    selector: str
    score: str
    proposed: bool
    confident: bool
    same: str
    differs: str
    element: str


def candidate_lines(ticket: DriftTicket) -> list[CandidateLine]:
    found = ticket.check.suggestion if ticket.check else None
    if found is None:
        return []
    lines = []
    for c in found.candidates:
        same = [PROPERTIES.get(k, k) for k, v in c.matched.items() if v >= 0.8]
        differs = [PROPERTIES.get(k, k) for k, v in c.matched.items() if v < 0.3]
        where = f"{c.frame} >> " if c.frame else ""
        lines.append(
            CandidateLine(
                selector=where + (c.selector or "(no locator finds it alone)"),
                score=f"{c.score:.2f}",
                proposed=c.selector is not None and c.selector == ticket.proposed,
                confident=found.confident == c,
                same=", ".join(same) or "nothing",
                differs=", ".join(differs) or "nothing",
                element=f"<{c.tag}> {c.text}".strip() + ("" if c.visible else " (hidden)"),
            )
        )
    return lines


def _ticket(request: Request, user: User, ticket_id: int) -> DriftTicket:
    try:
        ticket = store_of(request).drift_ticket(ticket_id)
    except UnknownRecord:
        raise NotFound("No such repair", f"There is no drift ticket {ticket_id}.") from None
    require_sees(
        user, ticket.engagement, "No such repair", f"There is no drift ticket {ticket_id}."
    )
    return ticket


@router.get("/repairs")
def tickets(request: Request, user: SignedIn) -> Response:
    """Every drift ticket of the person's engagements, those waiting first."""
    found = [t for t in store_of(request).drift_tickets() if user.sees(t.engagement)]
    found.sort(key=lambda t: (t.status != "open", -t.id))
    return render(
        request,
        "repairs.html",
        user=user,
        tickets=[(t, key_words(t)) for t in found],
        maps=sorted({t.engagement for t in found}),
    )


@router.get("/repairs/{ticket_id}")
def ticket_page(request: Request, user: SignedIn, ticket_id: Id) -> Response:
    ticket = _ticket(request, user, ticket_id)
    return render(
        request,
        "repair.html",
        user=user,
        ticket=ticket,
        words=key_words(ticket),
        candidates=candidate_lines(ticket),
        problem=request.query_params.get("problem"),
        done=request.query_params.get("done"),
    )


@router.get("/repairs/{ticket_id}/screenshot")
def screenshot(request: Request, user: SignedIn, ticket_id: Id) -> Response:
    """The page as the bot saw it when the run stopped, the best candidate outlined."""
    ticket = _ticket(request, user, ticket_id)
    home: Path = request.app.state.home
    path = Path(ticket.screenshot or "")
    if not ticket.screenshot or not path.resolve().is_relative_to(home.resolve()):
        raise NotFound("No screenshot", "This drift was found with no screenshot kept.")
    if not path.is_file():
        raise NotFound("File gone", "The screenshot is no longer on disk.")
    return FileResponse(path, media_type="image/png")


@router.post("/repairs/{ticket_id}/approve")
def approve(request: Request, user: Operator, ticket_id: Id) -> Response:
    """Write the patched map as the engagement's new version; the next run uses it."""
    ticket = _ticket(request, user, ticket_id)
    if ticket.status != "open":
        who = f" by {ticket.decided_by}" if ticket.decided_by else ""
        return _back(ticket_id, problem=f"This repair was already decided{who}.")
    if ticket.map_path is None or ticket.map_after is None or ticket.map_before is None:
        return _back(
            ticket_id, problem="This ticket proposes no patch: there is nothing to approve."
        )
    path = Path(ticket.map_path)
    try:
        now = path.read_text(encoding="utf-8")
    except OSError as exc:
        return _back(ticket_id, problem=f"The selector map {path} cannot be read: {exc.strerror}.")
    if now != ticket.map_before:
        return _back(
            ticket_id,
            problem=f"The selector map {path.name} changed since this ticket was opened: "
            "check the portal again (check-selectors) for a fresh proposal.",
        )
    try:
        store_of(request).decide_drift_ticket(ticket_id, user.name, approved=True)
    except StoreError as exc:
        return _back(ticket_id, problem=str(exc))
    _write(path, ticket.map_after)
    return _back(
        ticket_id, done=f"Approved: {path.name} now has this repair; the next run uses it."
    )


@router.get("/repairs/maps/{engagement}")
def history(request: Request, user: SignedIn, engagement: str) -> Response:
    """The engagement's selector map versions, newest first, with a way back."""
    require_sees(user, engagement, "No such engagement")
    versions = store_of(request).map_versions(engagement)
    return render(
        request,
        "repair_history.html",
        user=user,
        engagement=engagement,
        versions=versions,
        done=request.query_params.get("done"),
    )


@router.post("/repairs/maps/{engagement}/{number}/restore")
def restore(request: Request, user: Operator, engagement: str, number: Id) -> Response:
    """Make an earlier version the newest again (the map file written with it)."""
    require_sees(user, engagement, "No such engagement")
    store = store_of(request)
    path = _map_path(request, engagement)
    try:
        version = store.restore_map_version(engagement, number, user.name)
    except UnknownRecord:
        raise NotFound("No such version", f"{engagement} has no map version {number}.") from None
    _write(path, version.text)
    done = f"Back to version {number}: it is now version {version.number}."
    return RedirectResponse(
        f"/repairs/maps/{engagement}?{urlencode({'done': done})}", status_code=303
    )


def _map_path(request: Request, engagement: str) -> Path:
    found = [t for t in store_of(request).drift_tickets(engagement=engagement) if t.map_path]
    if not found:
        raise NotFound("No such engagement", f"{engagement} has no repaired selector map.")
    return Path(found[0].map_path or "")


def _write(path: Path, text: str) -> None:
    """Replace the map file at once (a run starting meanwhile reads the old or the new)."""
    part = path.with_name(f".{path.name}.writing")
    part.write_text(text, encoding="utf-8")
    part.replace(path)


def _back(ticket_id: int, *, problem: str | None = None, done: str | None = None) -> Response:
    query = urlencode({"problem": problem} if problem else {"done": done or ""})
    return RedirectResponse(f"/repairs/{ticket_id}?{query}", status_code=303)
