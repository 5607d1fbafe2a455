"""Per-model-family facts for v1internal targets: one table, looked up by upstream model id.

Sources: docs/upstream.md §7 (limits, thinking styles, quirks, budgets). Pure data plus one
lookup; building requests is outbound.py's job.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, replace
from typing import Literal

from antigravity_gateway.core.messages import Family

ThinkingStyle = Literal["budget", "level", "none"]
LEVELS = ("minimal", "low", "medium", "high")  # Gemini 3 thinkingLevel values, lowest first


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelSpec:
    """One model family's output cap and thinking style, as the request builder needs them."""

    family: Family
    max_output: int  # hard cap on maxOutputTokens
    thinking: ThinkingStyle  # how a thinking request is expressed ("none": not at all)
    min_budget: int = 0
    max_budget: int = 0  # 0: bounded only by max_output
    levels: tuple[str, ...] = ()  # thinkingLevel values the model accepts
    default_budget: int = 0  # > 0: the model always thinks, with this budget unless asked otherwise


# Effort -> token budget for models that take budgets (Claude, Gemini 2.x).
EFFORT_BUDGET = {"minimal": 1024, "low": 2048, "medium": 8192, "high": 24576}

# Claude: budget >= 1024 and < maxOutputTokens; "-thinking" ids always think (§7.2).
CLAUDE = ModelSpec(family="claude", max_output=64000, thinking="budget", min_budget=1024)
CLAUDE_THINKING = replace(CLAUDE, default_budget=16000)
# Gemini 2.x: numeric thinkingBudget only (Flash: 0 disables, max 24576).
GEMINI_2 = ModelSpec(family="gemini", max_output=65536, thinking="budget", max_budget=24576)
# Gemini 3.x: thinkingLevel (a budget is still accepted); Flash takes all levels, Pro low/high.
GEMINI_3_FLASH = ModelSpec(
    family="gemini", max_output=65536, thinking="level", max_budget=32768, levels=LEVELS
)
GEMINI_3_PRO = replace(GEMINI_3_FLASH, levels=("low", "high"))

# First match wins; patterns are searched in the lowercased upstream id.
SPECS: tuple[tuple[re.Pattern[str], ModelSpec], ...] = (
    (re.compile(r"claude.*-thinking"), CLAUDE_THINKING),
    (re.compile(r"claude"), CLAUDE),
    (re.compile(r"gemini-[12][.-]"), GEMINI_2),
    (re.compile(r"gemini.*flash"), GEMINI_3_FLASH),
    (re.compile(r"gemini"), GEMINI_3_PRO),
)
# GPT-OSS and anything unknown: no thinking config, text only (§7.2).
OTHER = ModelSpec(family="other", max_output=32768, thinking="none")


@functools.lru_cache(maxsize=256)  # upstream ids are few; 5 searches cost 0.5 us a call
def spec_for(model: str) -> ModelSpec:
    """The facts for an upstream model id such as `gemini-3-flash` or `claude-sonnet-4-6`."""
    lowered = model.lower()
    for pattern, spec in SPECS:
        if pattern.search(lowered):
            return spec
    return OTHER
