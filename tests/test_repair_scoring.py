"""How a drifted key's candidates are scored and when one is proposed: the rules alone, on
records (the drift corpus runs them on real pages in Chromium)."""

from __future__ import annotations

import pytest

from bots._repair import MARGIN, THRESHOLD, WEIGHTS
from bots._repair._score import compare, decide, shape
from schemas.fingerprint import Candidate, ElementFingerprint

QTY = ElementFingerprint(
    tag="input",
    type="text",
    role="textbox",
    name="Qty",
    label="Qty",
    id="ctl00_main_txtQty",
    field_name="ctl00$main$txtQty",
    neighbours=("Qty", "Product", "Unit price"),
    path=("html", "body", "form", "table", "tr", "td", "input"),
    form_index=3,
    box=(497.0, 196.0, 48.0, 18.0),
)


def candidate(
    element: ElementFingerprint, old: ElementFingerprint = QTY, **changes: object
) -> Candidate:
    score, matched = compare(old, element)
    fields: dict[str, object] = {
        "selector": f"#{element.id}",
        "score": score,
        "matched": matched,
        "tag": element.tag,
        "text": element.name or "",
        "visible": element.visible,
    }
    return Candidate.model_validate({**fields, **changes})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1,176.00", "9,9.9"),
        ("OPP-00005", "A-9"),
        ("Stark Bank", "Aa Aa"),
        ("smb", "a"),
        ("", None),
    ],
)
def test_a_read_value_is_kept_as_its_shape(value: str, expected: str | None) -> None:
    assert shape(value) == expected


def test_the_same_element_scores_one_and_every_weight_is_said() -> None:
    score, matched = compare(QTY, QTY)
    assert score == 1.0
    assert set(matched) <= set(WEIGHTS)
    assert 0 < THRESHOLD < 1 and 0 < MARGIN < THRESHOLD


def test_a_generated_id_tail_is_no_evidence_either_way() -> None:
    this_load = QTY.model_copy(update={"id": "ctl00_main_txtQty_482913"})
    next_load = QTY.model_copy(update={"id": "ctl00_main_txtQty_107766"})
    assert compare(this_load, next_load)[1]["id"] == 1.0


def test_the_neighbouring_input_of_the_same_type_is_never_proposed_on_place_alone() -> None:
    """The quantity input is gone; the unit price input sits where it was (healenium #76)."""
    price = QTY.model_copy(
        update={
            "name": "Unit price",
            "label": "Unit price",
            "id": "ctl00_main_txtUnitPrice",
            "field_name": "ctl00$main$txtUnitPrice",
        }
    )
    term = QTY.model_copy(
        update={
            "name": "Term end",
            "label": "Term end",
            "id": "ctl00_main_txtTermEnd",
            "field_name": "ctl00$main$txtTermEnd",
            "form_index": 1,
        }
    )
    best, other = candidate(price), candidate(term)
    assert decide(QTY, [best, other], [other])[0] is None
    # however high its place and shape score it, with no runner-up close, not enough
    placed = best.model_copy(update={"score": 0.9})
    proposed, _, reason = decide(QTY, [placed], [other])
    assert proposed is None
    assert "label, name, id and text" in reason


def test_a_renamed_input_whose_label_still_says_so_is_proposed() -> None:
    renamed = QTY.model_copy(
        update={"id": "ctl00_main_txtQuantity", "field_name": "ctl00$main$txtQuantity"}
    )
    price = QTY.model_copy(
        update={
            "name": "Unit price",
            "label": "Unit price",
            "id": "ctl00_main_txtUnitPrice",
            "field_name": "ctl00$main$txtUnitPrice",
            "form_index": 4,
            "neighbours": (),
        }
    )
    best, other = candidate(renamed), candidate(price)
    proposed, margin, _ = decide(QTY, [best, other], [other])
    assert proposed == best
    assert margin >= MARGIN


def test_a_hidden_element_is_never_proposed_however_alike() -> None:
    hidden = QTY.model_copy(update={"id": "ctl00_main_txtQty2", "visible": False})
    proposed, _, reason = decide(QTY, [candidate(hidden)], [])
    assert proposed is None
    assert "hidden" in reason


def test_two_buttons_with_the_same_text_are_not_told_apart_by_their_place() -> None:
    save = ElementFingerprint(
        tag="input",
        type="submit",
        role="button",
        name="Save",
        text="Save",
        id="ctl00_main_btnSave",
        form_index=7,
    )
    first = save.model_copy(update={"id": "ctl00_main_btnSaveQuote"})
    second = save.model_copy(update={"id": "ctl00_main_btnSaveLine", "form_index": 5})
    a, b = candidate(first, save), candidate(second, save)
    proposed, _, _ = decide(save, [a, b], [b])
    assert proposed is None


def test_nothing_alike_or_nothing_at_all_is_not_proposed() -> None:
    assert decide(QTY, [], [])[0] is None
    weak = candidate(QTY, score=THRESHOLD - 0.01)
    assert decide(QTY, [weak], [])[0] is None
    no_locator = candidate(QTY, selector=None)
    assert decide(QTY, [no_locator], [])[0] is None
