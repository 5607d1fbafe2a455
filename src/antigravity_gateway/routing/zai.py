"""Claude model names -> z.ai's GLM names, for `[zai]` dispatch. Pure.

Order (docs/upstream.md §11.6): `zai.model_mapping` (exact, then the
name lowercased, then its globs), a `zai:` prefix stripped, `glm-*` kept, other non-Claude names
kept, then by family: opus and sonnet -> glm-4.7, haiku (and Claude Code's background tasks)
-> glm-4.5-air.
"""

from __future__ import annotations

from collections.abc import Mapping

from .models import wildcard_target

DEFAULT_MODELS = {"opus": "glm-4.7", "sonnet": "glm-4.7", "haiku": "glm-4.5-air"}
BACKGROUND_MODEL = "internal-background-task"  # Claude Code's titles and summaries


def zai_model(name: str, mapping: Mapping[str, str]) -> str:
    lowered = name.lower()
    for key in (name, lowered):
        if key in mapping:
            return mapping[key]
    if (target := wildcard_target(name, mapping)) is not None:
        return target
    if lowered.startswith("zai:"):
        return name[4:]
    if lowered == BACKGROUND_MODEL:
        return DEFAULT_MODELS["haiku"]
    if lowered.startswith("glm-") or not lowered.startswith("claude"):
        return name
    for family in ("opus", "haiku"):
        if family in lowered:
            return DEFAULT_MODELS[family]
    return DEFAULT_MODELS["sonnet"]
