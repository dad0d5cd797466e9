"""YAML with line numbers: so a rules error points at the line the audit team must fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from schemas.errors import RulesError


def load_yaml(path: str | Path) -> tuple[Any, yaml.Node | None]:
    """The document and its node tree; unreadable files, bad YAML and repeated keys fail."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesError(path, "", f"cannot read the rules file: {exc}") from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        raise RulesError(path, "", f"not valid YAML: {exc}", line) from None
    if root is not None:
        _refuse_repeated_keys(path, root, "")
    if not isinstance(document, dict):
        raise RulesError(path, "", "expected a mapping of rules at the top level")
    return document, root


def _refuse_repeated_keys(path: str | Path, node: yaml.Node, prefix: str) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = f"{prefix}{key_node.value}"
            if key_node.value in seen:
                raise RulesError(path, key, "key given twice", key_node.start_mark.line + 1)
            seen.add(key_node.value)
            _refuse_repeated_keys(path, value_node, f"{key}.")
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _refuse_repeated_keys(path, item, f"{prefix}{i}.")


def key_line(root: yaml.Node | None, dotted: str) -> int:
    """1-based line of the deepest node on the path `a.0.b` that exists (0 if none)."""
    node, line = root, 0
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
