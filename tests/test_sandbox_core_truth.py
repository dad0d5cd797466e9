"""The ground truth tells the truth: a perfect bot (the pricing engine typing its expected
prices into the Portal) and the batch audit of the portal's exports produce exactly the
business errors and error findings that ground_truth.json says were planted."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from sandbox_helpers import TODAY

from audit.batch import audit_files
from audit.pricing import UnpriceableError, price
from sandbox import models
from sandbox.generate import GeneratedPaths, generate
from sandbox.portal import Portal
from schemas.opportunity import Opportunity, OpportunityLine
from schemas.rules import load_rules


def _schema(opp: models.Opportunity) -> Opportunity:
    return Opportunity(
        opportunity_id=opp.opportunity_id,
        account_id=opp.account_id,
        account_name=opp.account_name,
        segment=opp.segment,
        currency=opp.currency,
        contract_end=opp.contract_end,
        renewal_term_months=opp.renewal_term_months,
        lines=tuple(
            OpportunityLine(
                line_no=ln.line_no,
                sku=ln.sku,
                quantity=ln.quantity,
                prior_unit_price=ln.prior_unit_price,
                line_end=ln.line_end,
                renew=ln.renew,
            )
            for ln in opp.lines
        ),
    )


# (rules' proration, the portal's): the same method; another client's; a portal that
# prorates co-termed lines by another method than the client's rules.
CLIENTS = [("month_day", None), ("day", None), ("month_day", "month")]


@pytest.mark.parametrize(("proration", "portal_proration"), CLIENTS)
def test_a_perfect_bot_and_the_audit_find_exactly_what_was_planted(
    tmp_path: Path, proration: str, portal_proration: str | None
) -> None:
    paths = generate(
        tmp_path / "portal",
        7,
        80,
        TODAY,
        proration=proration,
        portal_proration=portal_proration,
    )
    truth = json.loads(paths.ground_truth.read_text())["anomalies"]
    business_errors = _quote_everything(paths, tmp_path)
    planted_errors = {
        a["opportunity_id"]: a["consequence"]["error_code"]
        for a in truth
        if a["consequence"]["business_error"]
    }
    assert business_errors == planted_errors

    found = _error_findings(paths, tmp_path)
    promised = {(a["opportunity_id"], rule) for a in truth for rule in a["consequence"]["findings"]}
    assert found == promised
    not_promised = {
        (a["opportunity_id"], rule)
        for a in truth
        for rule in a["consequence"].get("not_findings", [])
    }
    assert not found & not_promised


def test_a_bot_blind_to_line_ends_and_notice_is_caught_on_exactly_those_lines(
    tmp_path: Path,
) -> None:
    """A bot that quotes every install-base line for the whole term, as before co-terming:
    each do-not-renew line it quotes is `non_renewable_line`, each co-termed line it quotes
    from the term's start is `line_term_mismatch`, and nothing else changes."""
    paths = generate(tmp_path / "portal", 7, 80, TODAY)
    truth = json.loads(paths.ground_truth.read_text())["anomalies"]
    _quote_everything(paths, tmp_path, blind=True)
    new_rules = {"do_not_renew_line": "non_renewable_line", "coterm_line": "line_term_mismatch"}
    promised = {(a["opportunity_id"], rule) for a in truth for rule in a["consequence"]["findings"]}
    promised |= {
        (a["opportunity_id"], new_rules[a["kind"]]) for a in truth if a["kind"] in new_rules
    }
    assert _error_findings(paths, tmp_path) == promised


def _quote_everything(
    paths: GeneratedPaths, folder: Path, *, blind: bool = False
) -> dict[str, str]:
    """Quote and submit every opportunity at the engine's prices (`blind`: with no line
    ends and no notice); export opportunities.csv and quotes.csv into `folder`; the
    business errors by opportunity."""
    rules = load_rules(paths.rules)
    business_errors: dict[str, str] = {}
    with Portal(paths.db, today=TODAY) as portal:
        for summary in portal.list_opportunities(per_page=200).items:
            opp = _schema(portal.get_opportunity(summary.opportunity_id))
            if blind:
                lines = tuple(
                    ln.model_copy(update={"line_end": None, "renew": True}) for ln in opp.lines
                )
                opp = opp.model_copy(update={"lines": lines})
            try:
                expected = price(opp, rules, TODAY)
            except UnpriceableError as error:
                business_errors[opp.opportunity_id] = error.code
                continue
            quote = portal.save_quote(
                opp.opportunity_id,
                external_ref=f"WI-{opp.opportunity_id}",
                term_start=expected.term_start,
                term_end=expected.term_end,
                lines=[
                    (ln.sku, ln.quantity, ln.unit_price, ln.line_start, ln.line_end)
                    for ln in expected.lines
                ],
            )
            portal.submit_quote(quote.quote_number)
        # The audit's reader refuses a whole file with an empty contract_end (AUDIT_SPEC: an
        # unparsable value fails the file), so the audit team gets the export without the
        # opportunities that were business errors anyway.
        rows = list(csv.DictReader(io.StringIO(portal.opportunities_csv())))
        with (folder / "opportunities.csv").open("w", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows(row for row in rows if row["contract_end"])
        (folder / "quotes.csv").write_text(portal.quotes_csv())
    return business_errors


def _error_findings(paths: GeneratedPaths, folder: Path) -> set[tuple[str, str]]:
    """`(opportunity_id, rule)` of every error the batch audit finds in the exports."""
    result = audit_files(paths.rules, folder / "opportunities.csv", folder / "quotes.csv")
    errors = result.findings[result.findings["severity"] == "error"]
    return {(r.opportunity_id, r.rule) for r in errors.itertuples()}
