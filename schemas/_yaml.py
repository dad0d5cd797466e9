"""YAML with line numbers: so a rules error points at the line the audit team must fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from schemas.errors import RulesError

# libyaml when installed: a client's price book can run to thousands of entries.
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _RepeatedKey(Exception):
    def __init__(self, key: str, line: int) -> None:
        self.key, self.line = key, line


class _Loader(_SafeLoader):  # type: ignore[valid-type, misc]
    """Safe YAML that refuses a key given twice in one mapping (PyYAML keeps the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise _RepeatedKey(str(key), key_node.start_mark.line + 1)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_yaml(path: str | Path) -> tuple[Any, str]:
    """The document and its text; unreadable files, bad YAML and repeated keys fail."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesError(path, "", f"cannot read the rules file: {exc}") from None
    try:
        document = yaml.load(text, Loader=_Loader)  # noqa: S506 - a safe loader
    except _RepeatedKey as exc:
        raise RulesError(path, exc.key, "key given twice", exc.line) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        raise RulesError(path, "", f"not valid YAML: {exc}", line) from None
    if not isinstance(document, dict):
        raise RulesError(path, "", "expected a mapping of rules at the top level")
    return document, text


def key_line(text: str, dotted: str) -> int:
    """1-based line of the deepest node on the path `a.0.b` that exists (0 if none)."""
    node, line = yaml.compose(text, Loader=_SafeLoader), 0
    for part in dotted.split(".") if dotted else []:
        if isinstance(node, yaml.MappingNode):
            match = [(k, v) for k, v in node.value if str(k.value) == part]
            if not match:
                break
            line, node = match[0][0].start_mark.line + 1, match[0][1]
        elif isinstance(node, yaml.SequenceNode) and part.isdigit() and int(part) < len(node.value):
            node = node.value[int(part)]
            line = node.start_mark.line + 1
        else:
            break
    return line
