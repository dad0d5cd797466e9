"""A schedule written into the engagements file itself, the one place schedules live: the
line changed where it is (comments and the rest of the file kept), the result checked as
every command checks the file, and put in place whole or not at all."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import yaml

from audit.schedule import load_checked
from schemas.engagement import EngagementError


class ScheduleRefused(Exception):
    """Raised when a schedule cannot be written: the words say why (file, line, key)."""


def _node(node: yaml.Node, key: str) -> tuple[yaml.Node, yaml.Node] | None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if str(k.value) == key:
                return k, v
    return None


def _with_schedule(text: str, index: int, kind: str, cron: str) -> str:
    """The file's text with engagement `index`'s `kind` schedule set to `cron`."""
    quoted = '"' + cron.replace("\\", "\\\\").replace('"', '\\"') + '"'
    root = yaml.compose(text)
    listed = _node(root, "engagements") if root is not None else None
    if listed is None or not isinstance(listed[1], yaml.SequenceNode):
        raise ScheduleRefused("the engagements file has no list of engagements")
    engagement = listed[1].value[index]
    if not isinstance(engagement, yaml.MappingNode) or engagement.flow_style:
        raise ScheduleRefused("this engagement is written on one line: edit the file by hand")
    schedules = _node(engagement, "schedules")
    if schedules is not None and isinstance(schedules[1], yaml.MappingNode):
        found = _node(schedules[1], kind)
        if found is not None:  # the value replaced where it stands
            start, end = found[1].start_mark.index, found[1].end_mark.index
            return text[:start] + quoted + text[end:]
        if schedules[1].flow_style or not schedules[1].value:
            raise ScheduleRefused("the schedules are written on one line: edit the file by hand")
        column = schedules[1].value[0][0].start_mark.column
        return _insert_after(text, schedules[1].value[-1][1], f"{' ' * column}{kind}: {quoted}")
    if schedules is not None:
        raise ScheduleRefused("this engagement's schedules are not a mapping: edit the file")
    column = engagement.value[0][0].start_mark.column
    block = f"{' ' * column}schedules:\n{' ' * (column + 2)}{kind}: {quoted}"
    return _insert_after(text, engagement.value[-1][1], block)


def _insert_after(text: str, node: yaml.Node, lines: str) -> str:
    """`lines` on their own after the line where `node` ends."""
    end = node.end_mark.index
    if end > 0 and text[end - 1] == "\n":  # a block value ends after its newline
        cut = end
    else:
        newline = text.find("\n", end)
        cut = len(text) if newline < 0 else newline + 1
    before = text[:cut] if text[:cut].endswith("\n") or not cut else text[:cut] + "\n"
    return before + lines + "\n" + text[cut:]


def write_schedule(path: Path, engagement: str, kind: str, cron: str) -> str | None:
    """Set `engagement`'s `kind` schedule to `cron` in the engagements file at `path`;
    returns what it was before (None: no schedule). `ScheduleRefused` says why not, and
    then the file is untouched."""
    engagements = load_checked(path)
    names = [e.name for e in engagements]
    if engagement not in names:
        raise ScheduleRefused(f"{path}: no engagement {engagement!r}")
    index = names.index(engagement)
    before: str | None = getattr(engagements[index].schedules, kind)
    text = path.read_text(encoding="utf-8")
    changed = _with_schedule(text, index, kind, cron.strip())
    # Checked as the scheduler checks it, beside the real file (relative paths hold).
    handle, name = tempfile.mkstemp(prefix=".engagements-", suffix=".yaml", dir=path.parent)
    candidate = Path(name)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(changed)
        try:
            load_checked(candidate)
        except EngagementError as exc:
            raise ScheduleRefused(str(exc).replace(str(candidate), str(path))) from None
        os.chmod(candidate, path.stat().st_mode & 0o7777)
        os.replace(candidate, path)
    finally:
        candidate.unlink(missing_ok=True)
    return before
