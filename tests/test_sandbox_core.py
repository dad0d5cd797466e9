"""The sandbox portal's business rules and its generator, over the Portal directly."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from sandbox_helpers import term_start_of

from sandbox.generate import generate, load_credentials
from sandbox.portal import Portal, PortalValidationError

TODAY = date(2026, 1, 15)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate(tmp_path_factory.mktemp("portal"), 7, 60, TODAY).data_dir


@pytest.fixture
def portal(data_dir: Path) -> Iterator[Portal]:
    with Portal(data_dir / "portal.sqlite3", today=TODAY) as p:
        yield p


def _truth(data_dir: Path, kind: str) -> list[dict]:
    body = json.loads((data_dir / "ground_truth.json").read_text())
    return [a for a in body["anomalies"] if a["kind"] == kind]


def _regular_opportunity(portal: Portal, data_dir: Path, index: int = 0) -> str:
    """An opportunity with no planted anomaly (other than a stale editor default)."""
    anomalies = json.loads((data_dir / "ground_truth.json").read_text())["anomalies"]
    planted = {a["opportunity_id"] for a in anomalies if a["kind"] != "stale_default_price"}
    rows = portal.list_opportunities(per_page=200).items
    return [r.opportunity_id for r in rows if r.opportunity_id not in planted][index]


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    first = generate(tmp_path / "a", 11, 40, TODAY)
    second = generate(tmp_path / "b", 11, 40, TODAY)
    for name in ("rules.yaml", "ground_truth.json", "credentials.json"):
        assert (first.data_dir / name).read_bytes() == (second.data_dir / name).read_bytes()
    with Portal(first.db, today=TODAY) as a, Portal(second.db, today=TODAY) as b:
        assert a.db.dump() == b.db.dump()
        assert a.opportunities_csv() == b.opportunities_csv()
    other = generate(tmp_path / "c", 12, 40, TODAY)
    assert other.ground_truth.read_bytes() != first.ground_truth.read_bytes()


def test_rules_file_follows_the_audit_spec(data_dir: Path) -> None:
    rules = yaml.safe_load((data_dir / "rules.yaml").read_text())
    assert set(rules) == {
        "client",
        "currency_places",
        "price_book",
        "uplift",
        "cap_at_list",
        "volume_tiers",
        "term_discounts",
        "max_discount",
        "lead_days",
        "validity_days",
        "tolerance",
        "renewal_price_method",
        "proration",
        "accounts",
        "contracted_prices",
    }
    assert rules["proration"] == "month_day" and rules["renewal_price_method"] == "uplift"
    assert {m["price_method"] for m in rules["accounts"].values()} == {"same", "list"}
    hold = rules["contracted_prices"][0]
    assert set(hold) == {"account_id", "sku", "currency", "unit_price", "from", "until"}
    assert rules["lead_days"] == 120 and rules["tolerance"] == "0.00"
    assert "default" in rules["uplift"]
    entry = rules["price_book"][0]
    assert set(entry) == {"sku", "family", "currency", "list_price", "active"}
    assert isinstance(entry["list_price"], str)
    inactive = [e for e in rules["price_book"] if not e["active"]]
    assert {e["sku"] for e in inactive} == {"NET-SUP-050"}


def test_rules_file_loads_with_the_audit_loader(data_dir: Path) -> None:
    rules_module = pytest.importorskip("schemas.rules")
    rules = rules_module.load_rules(data_dir / "rules.yaml")
    assert rules is not None


def test_ground_truth_plants_every_kind(data_dir: Path, portal: Portal) -> None:
    kinds = {
        a["kind"] for a in json.loads((data_dir / "ground_truth.json").read_text())["anomalies"]
    }
    assert kinds == {
        "stale_default_price",
        "inactive_sku_in_install_base",
        "missing_contract_end",
        "markup_account_name",
        "volume_tier_crossing",
        "portal_reprices_line",
        "portal_term_end_off_by_one",
        "coterm_line",
        "do_not_renew_line",
        "price_method_same",
        "price_method_list",
        "contracted_price",
        "contracted_price_day_short",
    }, "portal_prorates_by_other_method only where the portal's method is not the rules'"
    for coterm in _truth(data_dir, "coterm_line"):
        opp = portal.get_opportunity(coterm["opportunity_id"])
        line = next(ln for ln in opp.lines if ln.sku == coterm["sku"])
        assert line.line_end is not None and opp.contract_end is not None
        assert line.line_end > opp.contract_end
        assert (line.line_end + timedelta(days=1)).day == 1, "added lines end on a month end"
    ends = {
        ln.line_end
        for a in _truth(data_dir, "coterm_line")
        for ln in portal.get_opportunity(a["opportunity_id"]).lines
        if ln.sku == a["sku"]
    }
    assert date(2028, 2, 29) in ends, "one add-on line ends on Feb 29"
    for notice in _truth(data_dir, "do_not_renew_line"):
        opp = portal.get_opportunity(notice["opportunity_id"])
        assert [ln.sku for ln in opp.lines if not ln.renew] == [notice["sku"]]
    missing = _truth(data_dir, "missing_contract_end")[0]["opportunity_id"]
    assert portal.get_opportunity(missing).contract_end is None
    markup = _truth(data_dir, "markup_account_name")[0]["opportunity_id"]
    assert "<script>" in portal.get_opportunity(markup).account_name
    tiers = _truth(data_dir, "volume_tier_crossing")[0]["opportunity_id"]
    assert [ln.quantity for ln in portal.get_opportunity(tiers).lines] == [9, 10, 49, 50]
    stale = _truth(data_dir, "stale_default_price")[0]
    opp = portal.get_opportunity(stale["opportunity_id"])
    rules = yaml.safe_load((data_dir / "rules.yaml").read_text())
    list_price = next(
        Decimal(e["list_price"])
        for e in rules["price_book"]
        if e["sku"] == stale["sku"] and e["currency"] == opp.currency
    )
    assert portal.default_unit_price(stale["sku"], opp.currency) != list_price


def test_credentials_are_generated_and_authenticate(data_dir: Path, portal: Portal) -> None:
    creds = load_credentials(data_dir)
    assert portal.authenticate(creds.username, creds.password)
    assert not portal.authenticate(creds.username, creds.password + "x")
    assert not portal.authenticate("nobody", creds.password)
    assert portal.totp_secret(creds.username) == creds.totp_secret
    assert creds.password not in repr(creds)
    assert (data_dir / "credentials.json").stat().st_mode & 0o077 == 0


def test_list_filters_sorts_and_pages(portal: Portal) -> None:
    everything = portal.list_opportunities(per_page=200)
    assert everything.total == 60
    window = portal.list_opportunities(
        end_from=TODAY + timedelta(days=30), end_to=TODAY + timedelta(days=180), per_page=10
    )
    ends = [o.contract_end for o in window.items]
    assert all(e is not None and TODAY + timedelta(days=30) <= e for e in ends)
    assert ends == sorted(ends)  # type: ignore[type-var]
    second = portal.list_opportunities(
        end_from=TODAY + timedelta(days=30), end_to=TODAY + timedelta(days=180), per_page=10, page=2
    )
    assert {o.opportunity_id for o in second.items}.isdisjoint(
        o.opportunity_id for o in window.items
    )
    by_name = portal.list_opportunities(sort="-account_name", per_page=200).items
    names = [o.account_name.lower() for o in by_name]
    assert names == sorted(names, reverse=True)
    with pytest.raises(PortalValidationError) as err:
        portal.list_opportunities(sort="bogus")
    assert err.value.field == "sort"


def test_save_prices_server_side_and_submit_and_book(data_dir: Path, portal: Portal) -> None:
    opp = portal.get_opportunity(_regular_opportunity(portal, data_dir))
    start = term_start_of(opp)
    end = start + timedelta(days=364)
    lines = [(ln.sku, ln.quantity, Decimal("10.01")) for ln in opp.lines]
    quote = portal.save_quote(
        opp.opportunity_id, external_ref="WI-1", term_start=start, term_end=end, lines=lines
    )
    assert quote.status == "draft" and quote.quote_number.startswith("Q-")
    for line, source in zip(quote.lines, opp.lines, strict=True):
        # The typed term is 365 days (12 whole months): a year's price, whatever the
        # opportunity's term.
        assert (line.line_start, line.line_end) == (start, end), "a line runs the whole term"
        expected = (Decimal("10.01") * source.quantity).quantize(
            Decimal("1") if opp.currency == "JPY" else Decimal("0.01")
        )
        assert line.line_amount == expected
    assert quote.total == sum(line.line_amount for line in quote.lines)
    assert quote.term_end == end and quote.valid_until == TODAY + timedelta(days=30)
    again = portal.save_quote(
        opp.opportunity_id,
        external_ref="WI-1",
        term_start=start,
        term_end=end,
        lines=lines[:1],
        quote_number=quote.quote_number,
    )
    assert again.quote_number == quote.quote_number and len(again.lines) == 1
    submitted = portal.submit_quote(quote.quote_number)
    assert submitted.status == "submitted"
    assert [q.quote_number for q in portal.find_quotes(external_ref="WI-1")] == [quote.quote_number]
    assert quote.quote_number in portal.quotes_csv()
    with pytest.raises(PortalValidationError):
        portal.submit_quote(quote.quote_number)


def test_customer_pos_and_booking_rules(data_dir: Path, portal: Portal) -> None:
    with_po = without_po = None
    for index in range(1, 20):
        opp = portal.get_opportunity(_regular_opportunity(portal, data_dir, index))
        start = term_start_of(opp)
        quote = portal.save_quote(
            opp.opportunity_id,
            external_ref=f"B-{index}",
            term_start=start,
            term_end=start + timedelta(days=364),
            lines=[(ln.sku, ln.quantity, Decimal("5")) for ln in opp.lines],
        )
        quote = portal.submit_quote(quote.quote_number)
        if quote.customer_po and not with_po:
            with_po = quote
        if not quote.customer_po and not without_po:
            without_po = quote
        if with_po and without_po:
            break
    assert with_po and without_po and with_po.customer_po
    po = with_po.customer_po
    assert po.amount == with_po.total and po.po_date == TODAY and po.po_number.startswith("PO-")
    pdf = portal.po_pdf(with_po.quote_number)
    assert pdf.startswith(b"%PDF") and po.po_number.encode() in pdf
    args = dict(po_date=TODAY, po_amount=po.amount, pdf_name="po.pdf", pdf=pdf)
    for number, po_number, pdf_bytes, field in [
        (without_po.quote_number, "PO-1", pdf, "po_number"),
        (with_po.quote_number, "", pdf, "po_number"),
        (with_po.quote_number, "PO-00000000", pdf, "po_number"),
        (with_po.quote_number, po.po_number, b"", "pdf"),
    ]:
        with pytest.raises(PortalValidationError) as err:
            portal.book(number, po_number=po_number, **{**args, "pdf": pdf_bytes})  # type: ignore[arg-type]
        assert err.value.field == field
    order = portal.book(with_po.quote_number, po_number=po.po_number, **args)  # type: ignore[arg-type]
    assert order.startswith("SO-")
    booked = portal.get_quote(with_po.quote_number)
    assert booked.status == "booked" and booked.order_number == order
    assert booked.booking and booked.booking.po_amount == po.amount
    with pytest.raises(PortalValidationError) as err:
        portal.book(with_po.quote_number, po_number=po.po_number, **args)  # type: ignore[arg-type]
    assert err.value.field == "status"
    assert with_po.quote_number in portal.bookings_csv()


@pytest.mark.parametrize(
    ("line", "field"),
    [
        (("NOPE-1", 1, "1"), "lines.0.sku"),
        (("NET-SUP-050", 1, "1"), "lines.0.sku"),
        (("NET-SUB-110", 0, "1"), "lines.0.quantity"),
        (("NET-SUB-110", 1, "-1"), "lines.0.unit_price"),
        (("NET-SUB-110", 1, "abc"), "lines.0.unit_price"),
    ],
)
def test_validation_names_the_field(
    data_dir: Path, portal: Portal, line: tuple[str, int, str], field: str
) -> None:
    opp = _regular_opportunity(portal, data_dir, 30)
    with pytest.raises(PortalValidationError) as err:
        portal.save_quote(
            opp,
            external_ref="",
            term_start=TODAY,
            term_end=TODAY,
            lines=[line],  # type: ignore[list-item]
        )
    assert err.value.field == field


def test_term_end_before_start_is_refused(data_dir: Path, portal: Portal) -> None:
    opp = portal.get_opportunity(_regular_opportunity(portal, data_dir, 31))
    with pytest.raises(PortalValidationError) as err:
        portal.save_quote(
            opp.opportunity_id,
            external_ref="",
            term_start=TODAY,
            term_end=TODAY - timedelta(days=1),
            lines=[(opp.lines[0].sku, 1, Decimal(1))],
        )
    assert err.value.field == "term_end"


def test_planted_portal_quirks(data_dir: Path, portal: Portal) -> None:
    reprice = _truth(data_dir, "portal_reprices_line")[0]
    opp = portal.get_opportunity(reprice["opportunity_id"])
    start = term_start_of(opp)
    typed = [(ln.sku, ln.quantity, Decimal("100")) for ln in opp.lines]
    quote = portal.save_quote(
        opp.opportunity_id,
        external_ref="R",
        term_start=start,
        term_end=start + timedelta(days=30),
        lines=typed,
    )
    prices = {ln.sku: ln.unit_price for ln in quote.lines}
    assert prices[reprice["sku"]] != Decimal("100")
    assert all(p == Decimal("100") for sku, p in prices.items() if sku != reprice["sku"])
    off = _truth(data_dir, "portal_term_end_off_by_one")[0]
    opp = portal.get_opportunity(off["opportunity_id"])
    start = term_start_of(opp)
    lines = [(ln.sku, ln.quantity, Decimal(1)) for ln in opp.lines]
    quote = portal.save_quote(
        opp.opportunity_id,
        external_ref="T",
        term_start=start,
        term_end=start + timedelta(days=30),
        lines=lines,
    )
    assert quote.term_end == start + timedelta(days=31)


def test_line_dates_are_stored_prorated_by_the_portals_method_and_exported(
    tmp_path: Path,
) -> None:
    paths = generate(tmp_path, 3, 40, TODAY, portal_proration="day")
    with Portal(paths.db, today=TODAY) as db:
        assert db.proration == "day"
        opp = db.get_opportunity(_regular_opportunity(db, tmp_path))
        start = term_start_of(opp)
        end = start + timedelta(days=364)
        sku = opp.lines[0].sku
        late = start + timedelta(days=100)
        quote = db.save_quote(
            opp.opportunity_id,
            external_ref="WI-2",
            term_start=start,
            term_end=end,
            lines=[(sku, 3, Decimal("365.00"), late, None)],
        )
        line = quote.lines[0]
        assert (line.line_start, line.line_end) == (late, end)
        assert line.line_amount == Decimal(3 * 265), "265 days of 365 at 1.00 a day, 3 units"
        for dates, field in (
            ((start - timedelta(days=1), None), "lines.0.line_start"),
            ((None, end + timedelta(days=1)), "lines.0.line_end"),
            ((late, late - timedelta(days=1)), "lines.0.line_end"),
        ):
            with pytest.raises(PortalValidationError) as refused:
                db.save_quote(
                    opp.opportunity_id,
                    external_ref="WI-3",
                    term_start=start,
                    term_end=end,
                    lines=[(sku, 3, Decimal("365.00"), *dates)],
                )
            assert refused.value.field == field
        db.submit_quote(quote.quote_number)
        header, row = db.quotes_csv().splitlines()[:2]
        assert header.split(",")[10:14] == ["line_start", "line_end", "unit_price", "line_amount"]
        assert row.split(",")[10:12] == [late.isoformat(), end.isoformat()]
        opportunities = db.opportunities_csv().splitlines()
        assert opportunities[0].endswith(",prior_unit_price,line_end,renew")
        assert {row.rsplit(",", 1)[1] for row in opportunities[1:]} == {"yes", "no"}
