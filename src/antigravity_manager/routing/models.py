"""Model routing: the client's model name -> the upstream model id. Pure.

Order (reference/antigravity-tools.md §9.1, improved): an exact key of the custom mapping, then
its wildcard keys (the most specific pattern wins, ties broken by the longer literal text, then
alphabetically, so the answer never depends on dict order), then the built-in table, then the
name itself when some account offers it. Anything else is an `UnknownModel` naming close matches.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from ..errors import UnknownModel

_GEMINI_DEFAULT = "gemini-3-flash"
_SONNET = "claude-sonnet-4-6"
_OPUS = "claude-opus-4-6-thinking"

BUILTIN: Mapping[str, str] = {
    **dict.fromkeys(
        [
            "claude-sonnet-4-5",
            "claude-3-5-sonnet-20241022",
            "claude-3-5-sonnet-20240620",
            "claude-haiku-4",
            "claude-3-haiku-20240307",
            "claude-haiku-4-5-20251001",
            "claude-haiku-4-5",
        ],
        _SONNET,
    ),
    "claude-sonnet-4-5-thinking": "claude-sonnet-4-6-thinking",
    "claude-sonnet-4-5-20250929": "claude-sonnet-4-6-thinking",
    **dict.fromkeys(
        [
            "claude-opus-4",
            "claude-opus-4-5-thinking",
            "claude-opus-4-5-20251101",
            "claude-opus-4-6",
            "claude-opus-4.6-thinking",
            "claude-opus-4.6",
            "claude-opus-4-6-20260201",
        ],
        _OPUS,
    ),
    **dict.fromkeys(
        [
            "gpt-4",
            "gpt-4-turbo",
            "gpt-4-turbo-preview",
            "gpt-4-0125-preview",
            "gpt-4-1106-preview",
            "gpt-4-0613",
            "gpt-4o",
            "gpt-4o-2024-05-13",
            "gpt-4o-2024-08-06",
            "gpt-4o-mini",
            "gpt-4o-mini-2024-07-18",
            "gpt-3.5-turbo",
            "gpt-3.5-turbo-16k",
            "gpt-3.5-turbo-0125",
            "gpt-3.5-turbo-1106",
            "gpt-3.5-turbo-0613",
        ],
        _GEMINI_DEFAULT,
    ),
    "gemini-3.1-pro-high": "gemini-pro-agent",
    "gemini-3-pro-high": "gemini-pro-agent",
    "gemini-3.1-pro": "gemini-3.1-pro-low",
    "gemini-3-pro": "gemini-3.1-pro-low",
    "internal-background-task": _GEMINI_DEFAULT,
}


@dataclass(frozen=True, slots=True)
class Route:
    requested: str
    upstream: str
    rule: str  # "custom", "wildcard", "builtin" or "offered"


def glob_matches(pattern: str, name: str) -> bool:
    """`*` matches any run of characters (case-sensitive); no other metacharacters."""
    pieces = pattern.split("*")
    if len(pieces) == 1:
        return pattern == name
    head, *middle, tail = pieces
    if not name.startswith(head) or len(name) < len(head) + len(tail):
        return False
    rest = name[len(head) : len(name) - len(tail)] if tail else name[len(head) :]
    if tail and not name.endswith(tail):
        return False
    for piece in middle:
        found = rest.find(piece)
        if found < 0:
            return False
        rest = rest[found + len(piece) :]
    return True


def _specificity(pattern: str) -> tuple[int, int, str]:
    literal = len(pattern) - pattern.count("*")
    return (-literal, pattern.count("*"), pattern)


def wildcard_target(name: str, mapping: Mapping[str, str]) -> str | None:
    patterns = sorted((p for p in mapping if "*" in p and glob_matches(p, name)), key=_specificity)
    return mapping[patterns[0]] if patterns else None


def resolve(name: str, custom: Mapping[str, str], offered: Collection[str]) -> Route:
    """Route `name`; `offered` is what the accounts offer (empty when not known yet)."""
    if name in custom:
        return Route(name, custom[name], "custom")
    if (target := wildcard_target(name, custom)) is not None:
        return Route(name, target, "wildcard")
    if name in BUILTIN:
        return Route(name, BUILTIN[name], "builtin")
    if not offered or name in offered:
        return Route(name, name, "offered")
    raise UnknownModel(_unknown_message(name, [*offered, *custom, *BUILTIN]))


def _unknown_message(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, sorted(set(known)), n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    return f"model '{name}' is not offered by any account and has no mapping{hint}"
