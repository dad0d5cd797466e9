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
    return KeyWatch(known(), keep=keep, shots=shots)


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
