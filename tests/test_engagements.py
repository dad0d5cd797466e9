"""Bad engagements or rules files: a message naming the file and the key, nothing scheduled."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from quotebot import cli
from sandbox.generate import generate
from scheduler import load_engagements
from schemas.engagement import EngagementError

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with a valid rules file, and quotebot's home (and database) inside it."""
    generate(tmp_path / "portal", 7, 5, date(2026, 1, 15), client="acme")
    monkeypatch.setenv("QUOTEBOT_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("QUOTEBOT_DATABASE_URL", raising=False)
    return tmp_path


def _engagement(**changes: object) -> dict[str, object]:
    entry: dict[str, object] = {
        "name": "acme",
        "flavour": "acme",
        "url": "http://127.0.0.1:9",
        "username_env": "ACME_USER",
        "password_env": "ACME_PASSWORD",
        "selectors": str(REPO / "selectors" / "acme.yaml"),
        "rules": "portal/rules.yaml",
        "schedules": {"quote": "0 6 * * 1-5", "booking": "0 14 * * 1-5"},
        "workers": 2,
        "timezone": "Europe/London",
    }
    entry.update(changes)
    return entry


def _write(folder: Path, *entries: dict[str, object]) -> Path:
    path = folder / "engagements.yaml"
    path.write_text(yaml.safe_dump({"engagements": list(entries)}, sort_keys=False))
    return path


def _schedule_add_all(path: Path) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["schedule", "add", "--all", "--engagements", str(path)])
    return result.exit_code, result.output


def _scheduled() -> str:
    return CliRunner().invoke(cli, ["schedule", "list"]).output


def test_a_valid_file_schedules_both_runs_of_each_engagement(folder: Path) -> None:
    path = _write(folder, _engagement(), _engagement(name="acme-eu", timezone="Europe/Berlin"))
    assert [e.name for e in load_engagements(path)] == ["acme", "acme-eu"]

    code, output = _schedule_add_all(path)

    assert code == 0, output
    header, *listed = _scheduled().splitlines()
    assert header.split()[:2] == ["ENGAGEMENT", "RUNS"]
    assert [line.split()[:2] for line in listed] == [
        ["acme", "quoting"],
        ["acme", "booking"],
        ["acme-eu", "quoting"],
        ["acme-eu", "booking"],
    ]
    assert listed[2].endswith("Europe/Berlin"), listed[2]


BAD_ENGAGEMENTS = [
    # (what operations staff got wrong, the entry, the key named, words in the message)
    ("a typo in a key", _engagement(worker=2), "engagements.0.worker", "unknown key"),
    (
        "a cron with 66 minutes",
        _engagement(schedules={"quote": "66 6 * * *"}),
        "engagements.0.schedules.quote",
        "66",
    ),
    (
        "a 4-field cron",
        _engagement(schedules={"booking": "0 6 * *"}),
        "engagements.0.schedules.booking",
        "not a cron expression",
    ),
    (
        "an unknown timezone",
        _engagement(timezone="Europe/Lndon"),
        "engagements.0.timezone",
        "unknown timezone",
    ),
    (
        "a password instead of a variable name",
        _engagement(password_env="hunter2!"),
        "engagements.0.password_env",
        "NAME of an environment variable",
    ),
    (
        "a missing rules file",
        _engagement(rules="portal/rules-2025.yaml"),
        "engagements.0.rules",
        "rules-2025.yaml",
    ),
    (
        "a missing selector map",
        _engagement(selectors="selectors/acme2.yaml"),
        "engagements.0.selectors",
        "acme2.yaml",
    ),
    (
        "the selector map of another flavour",
        _engagement(selectors=str(REPO / "selectors" / "globex.yaml")),
        "engagements.0.flavour",
        "globex",
    ),
    ("too many workers", _engagement(workers=40), "engagements.0.workers", "16"),
]


@pytest.mark.parametrize(
    ("case", "entry", "key", "words"), BAD_ENGAGEMENTS, ids=[c[0] for c in BAD_ENGAGEMENTS]
)
def test_a_bad_engagement_names_the_file_and_key_and_schedules_nothing(
    folder: Path, case: str, entry: dict[str, object], key: str, words: str
) -> None:
    path = _write(folder, _engagement(name="fine"), entry)
    key = key.replace("engagements.0", "engagements.1")

    with pytest.raises(EngagementError) as caught:
        load_engagements(path)
    code, output = _schedule_add_all(path)

    assert caught.value.key == key
    assert str(path) in str(caught.value) and words in str(caught.value)
    assert caught.value.line > 0, "the line of the key in the engagements file"
    assert "hunter2" not in str(caught.value), "a secret typed by mistake is never echoed"
    assert code == 1
    assert str(path) in output and key in output and "nothing was scheduled" in output
    assert "nothing scheduled" in _scheduled()


def test_a_bad_rules_file_names_both_files_and_both_keys(folder: Path) -> None:
    rules = folder / "portal" / "rules.yaml"
    document = yaml.safe_load(rules.read_text())
    document["price_book"][0]["list_prize"] = document["price_book"][0].pop("list_price")
    rules.write_text(yaml.safe_dump(document, sort_keys=False))
    path = _write(folder, _engagement())

    code, output = _schedule_add_all(path)

    assert code == 1
    assert f"{path}:" in output and "engagements.0.rules" in output
    assert str(rules) in output and "price_book.0.list_prize" in output
    assert "nothing scheduled" in _scheduled()


def test_a_file_that_is_not_yaml_gives_its_line_and_the_scheduler_does_not_start(
    folder: Path,
) -> None:
    path = folder / "engagements.yaml"
    path.write_text("engagements:\n  - name: acme\n    url: [unclosed\n")

    result = CliRunner().invoke(cli, ["scheduler", "start", "--engagements", str(path)])

    assert result.exit_code == 1
    assert f"{path}:" in result.output and "not valid YAML" in result.output
    assert "nothing scheduled" in _scheduled()
