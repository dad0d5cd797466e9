"""Where the repair meets the store: a bot's watch built from the engagement's kept
fingerprints, and the drift ticket a stopped run (or a check) opens."""

from __future__ import annotations

from datetime import UTC, datetime

from loguru import logger

from bots._errors import SelectorDrift
from bots._repair._patch import PatchError, map_diff, patched_map
from bots._repair._watch import DriftEvidence, KeyWatch, map_version
from schemas.engagement import Engagement
from schemas.fingerprint import Candidate, DriftTicket, ElementFingerprint, KeyCheck
from schemas.selector_map import SelectorMap
from schemas.settings import Settings
from store import Store, open_store


def watch_for(
    engagement: Engagement,
    settings: Settings,
    selector_map: SelectorMap,
    store: Store | None = None,
) -> KeyWatch | None:
    """The watch of a bot working for `engagement`: the fingerprints the store keeps for it,
    and new ones stored as they are first seen (None: the engagement turned them off).
    Without `store`, the settings' database is opened for each read and write (rare: once
    a worker, and once a key per map version)."""
    if not engagement.repair.fingerprints:
        return None
    version = map_version(selector_map)
    name, flavour = engagement.name, engagement.flavour

    def known() -> dict[str, tuple[str, ElementFingerprint]]:
        if store is not None:
            return store.fingerprints(name, flavour)
        with open_store(settings.effective_database_url) as opened:
            return opened.fingerprints(name, flavour)

    def keep(found: dict[str, tuple[str, ElementFingerprint]]) -> None:
        if store is not None:
            store.keep_fingerprints(name, flavour, version, found)
            return
        with open_store(settings.effective_database_url) as opened:
            opened.keep_fingerprints(name, flavour, version, found)

    shots = settings.home / "evidence" / engagement.name / "drift"
    watch = KeyWatch(known(), keep=keep, shots=shots)
    if engagement.repair.use_confident_reads:
        watch.known_value = lambda key, params: _in_store(store, settings, name, key, params)
        watch.use = lambda drift, best: _record_use(store, settings, engagement, drift)
    return watch


KNOWN_VALUES = {"opportunity.account_name": "account_name"}
"""Read keys whose value the store knows for the record on screen (the opportunity's work
item, from the renewal list): what a confident candidate is confirmed by."""


def _in_store(
    store: Store | None, settings: Settings, engagement: str, key: str, params: dict[str, str]
) -> str | None:
    field = KNOWN_VALUES.get(key)
    opportunity_id = params.get("opportunity_id")
    if field is None or not opportunity_id:
        return None
    if store is not None:
        item = store.item_for(engagement, opportunity_id)
    else:
        with open_store(settings.effective_database_url) as opened:
            item = opened.item_for(engagement, opportunity_id)
    return str(getattr(item, field)) if item is not None else None


def used_for(run_id: int) -> str:
    """A ticket's record of a candidate used for one run, in operations' words."""
    return f"Used for run {run_id} by the engagement's choice; approve to keep it"


def _record_use(
    store: Store | None, settings: Settings, engagement: Engagement, drift: DriftEvidence
) -> bool:
    """The ticket records that the engagement's running run reads the key at its candidate
    (False: no run of it is running, e.g. a selector check: nothing is used)."""
    if store is not None:
        return _record(store, engagement, drift)
    with open_store(settings.effective_database_url) as opened:
        return _record(opened, engagement, drift)


def _record(store: Store, engagement: Engagement, drift: DriftEvidence) -> bool:
    running = store.runs(engagement.name, status="running")
    if not running:
        return False
    run_id = running[-1].id
    ticket = _ticket(run_id, engagement, drift).model_copy(update={"healed": used_for(run_id)})
    store.open_drift_ticket(ticket)
    logger.bind(engagement=engagement.name, run=run_id).warning(
        "{}: read at its confident candidate {} for this run (the engagement's choice); "
        "the drift ticket waits for a person",
        drift.key,
        ticket.proposed,
    )
    return True


def proposal(check: KeyCheck | None) -> Candidate | None:
    """The candidate a ticket proposes: the confident one, else the best with a locator
    (a person decides; the ticket says which it is)."""
    if check is None or check.suggestion is None:
        return None
    if check.suggestion.confident is not None:
        return check.suggestion.confident
    return next((c for c in check.suggestion.candidates if c.selector is not None), None)


def proposed_map(text: str, key: str, candidate: Candidate | None) -> str | None:
    """The map's text with `key` now the candidate's selector (None: nothing to propose: no
    candidate, or one in another frame than the map's page)."""
    if candidate is None or candidate.selector is None:
        return None
    try:
        return patched_map(text, key, candidate.selector)
    except PatchError:
        return None


def open_ticket(
    store: Store, run_id: int | None, engagement: Engagement, exc: BaseException
) -> DriftTicket | None:
    """The drift ticket for a run (or check) stopped by `exc` (the one call the engines make
    where a run stops for drift); None when `exc` is no drift. Once per engagement and key
    while open: a second drift of the same key refreshes the open ticket."""
    if not isinstance(exc, SelectorDrift):
        return None
    try:
        return store.open_drift_ticket(_ticket(run_id, engagement, exc))
    except Exception:  # noqa: BLE001 - the ticket is evidence: never hides the drift itself
        logger.opt(exception=True).error("could not open the drift ticket of {}", exc.key)
        return None


def _ticket(run_id: int | None, engagement: Engagement, exc: SelectorDrift) -> DriftTicket:
    evidence = exc if isinstance(exc, DriftEvidence) else None
    check = evidence.check if evidence else None
    best = proposal(check)
    before = engagement.selectors.read_text(encoding="utf-8")
    after = proposed_map(before, exc.key, best)
    name = engagement.selectors.name
    return DriftTicket(
        id=0,
        engagement=engagement.name,
        flavour=exc.flavour,
        key=exc.key,
        url=exc.url,
        selector=evidence.selector if evidence else None,
        opened_at=datetime.now(UTC),
        run_id=run_id,
        check=check,
        screenshot=str(evidence.screenshot) if evidence and evidence.screenshot else None,
        map_path=str(engagement.selectors),
        proposed=best.selector if best and after else None,
        patch=map_diff(before, after, name) if after else None,
        map_before=before if after else None,
        map_after=after,
        write=evidence.write if evidence else False,
    )
