"""The map patch a drift proposes: the selector map's YAML with one key's selector replaced,
every other line (comments included) as it was, and the difference for people to read."""

from __future__ import annotations

import difflib
import re
from typing import Any

import yaml


class PatchError(ValueError):
    """Raised when the map has no such page or key, or the patched text would not read back
    as the same map with only that key changed."""


def patched_map(text: str, key: str, selector: str) -> str:
    """`text` (a selector map's YAML) with `key` (`page.key`, a row cell `page.rows.cell`)
    now `selector`; a comment at the end of its line is kept."""
    parts = key.split(".")
    if len(parts) not in (2, 3):
        raise PatchError(f"'{key}' is not page.key or page.rows.cell")
    section = "selectors" if len(parts) == 2 else "cells"
    path = [parts[0], section, *parts[1:]]
    lines = text.splitlines(keepends=True)
    at = _find(lines, ["pages", *path], key)
    line = lines[at].rstrip("\n")
    head, rest = line.split(":", 1)
    lines[at] = f"{head}: {_quoted(selector)}{_comment(rest.strip())}\n"
    patched = "".join(lines)
    _check(text, patched, ["pages", *path], selector, key)
    return patched


def map_diff(before: str, after: str, name: str) -> str:
    """The patch as people read it (unified diff, three lines of context)."""
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            fromfile=f"{name} (now)",
            tofile=f"{name} (proposed)",
        )
    )


def _find(lines: list[str], path: list[str], key: str) -> int:
    """The line of the last name in `path`, each name a direct child of the one before (by
    indentation, as the maps are written: block style, one name a line)."""
    start, end, depth = 0, len(lines), -1
    for name in path:
        children = [i for i in range(start, end) if _indent(lines[i]) > depth]
        child = min((_indent(lines[i]) for i in children), default=0)
        at = next(
            (
                i
                for i in children
                if _indent(lines[i]) == child and re.match(rf"\s*{re.escape(name)}\s*:", lines[i])
            ),
            None,
        )
        if at is None:
            raise PatchError(f"the map has no '{key}'")
        depth, start = child, at + 1
        end = next((j for j in range(start, end) if _indent(lines[j]) <= depth), end)
    return start - 1


_BLANK = 10**6


def _indent(line: str) -> int:
    """A line's indentation; blank and comment lines belong to any block."""
    stripped = line.lstrip()
    return _BLANK if not stripped or stripped.startswith("#") else len(line) - len(stripped)


def _quoted(selector: str) -> str:
    """In YAML quotes, as the maps write them: double, single when the selector has double."""
    if '"' not in selector:
        return '"' + selector.replace("\\", "\\\\") + '"'
    if "'" not in selector:
        return "'" + selector + "'"
    return '"' + selector.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _comment(value: str) -> str:
    """The comment after a YAML value (with the spaces before it), or nothing."""
    end = 0
    if value[:1] in ('"', "'"):
        quote, end = value[0], 1
        while end < len(value):
            if quote == '"' and value[end] == "\\":
                end += 2
                continue
            if value[end] == quote:
                if quote == "'" and value[end + 1 : end + 2] == "'":
                    end += 2
                    continue
                break
            end += 1
        end += 1
    found = re.search(r"\s+#.*$", value[end:])
    return found.group(0) if found else ""


def _check(before: str, after: str, path: list[str], selector: str, key: str) -> None:
    old, new = yaml.safe_load(before), yaml.safe_load(after)
    holder: Any = new
    for name in path[:-1]:
        holder = holder[name]
    if holder.get(path[-1]) != selector:
        raise PatchError(f"'{key}' would not read back as {selector!r}")
    holder[path[-1]] = _at(old, path)
    if new != old:
        raise PatchError(f"patching '{key}' would change more than '{key}'")


def _at(data: Any, path: list[str]) -> Any:
    for name in path:
        data = data[name]
    return data
