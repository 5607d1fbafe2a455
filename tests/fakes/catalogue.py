"""The simulator's model catalogue: Antigravity upstream ids with limits and families
(docs/upstream.md §2.3, §7).

`family` drives behaviour: "gemini3" (thought signatures enforced), "gemini25", "claude", "gpt".
Deliberately small: a handful of realistic ids plus one hidden internal id; tests may add more.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

GEMINI3_FLASH_LEVELS = ("minimal", "low", "medium", "high")
GEMINI31_PRO_LEVELS = ("low", "medium", "high")


@dataclass(frozen=True)
class ModelSpec:
    id: str
    display_name: str
    family: str  # gemini3 | gemini25 | claude | gpt
    max_tokens: int = 1048576
    max_output_tokens: int = 65536
    supports_images: bool = True
    supports_thinking: bool = True
    thinking_budget: int = 32768
    recommended: bool = True
    model_version: str = ""
    thinking_levels: tuple[str, ...] | None = ()  # () = thinkingLevel rejected, None = not checked
    internal: bool = False  # hidden internal entries gateways must filter out
    image_output: bool = False

    @property
    def is_claude(self) -> bool:
        return self.family == "claude"

    @property
    def needs_signatures(self) -> bool:
        return self.family in ("gemini3", "claude")

    def describe(self) -> dict[str, Any]:
        """The fetchAvailableModels entry (without quotaInfo)."""
        provider = {"claude": "ANTHROPIC", "gpt": "OPENAI"}.get(self.family, "GOOGLE")
        return {
            "displayName": self.display_name,
            "maxTokens": self.max_tokens,
            "maxOutputTokens": self.max_output_tokens,
            "supportsImages": self.supports_images,
            "supportsThinking": self.supports_thinking,
            "thinkingBudget": self.thinking_budget,
            "recommended": self.recommended,
            "model": "MODEL_" + self.id.upper().replace("-", "_").replace(".", "_"),
            "apiProvider": f"API_PROVIDER_{provider}",
            "modelProvider": f"MODEL_PROVIDER_{provider}",
        }


def _claude(model_id: str, name: str, version: str) -> ModelSpec:
    return ModelSpec(
        model_id,
        name,
        "claude",
        max_tokens=200000,
        max_output_tokens=64000,
        thinking_budget=32000,
        model_version=version,
        thinking_levels=None,
    )


DEFAULT_MODELS: tuple[ModelSpec, ...] = (
    ModelSpec(
        "gemini-3-flash",
        "Gemini 3 Flash",
        "gemini3",
        model_version="gemini-3-flash",
        thinking_levels=GEMINI3_FLASH_LEVELS,
    ),
    ModelSpec(
        "gemini-3.1-pro-low",
        "Gemini 3.1 Pro (Low)",
        "gemini3",
        model_version="gemini-3.1-pro",
        thinking_levels=GEMINI31_PRO_LEVELS,
    ),
    ModelSpec(
        "gemini-pro-agent",
        "Gemini 3.1 Pro (High)",
        "gemini3",
        model_version="gemini-3.1-pro",
        thinking_levels=GEMINI31_PRO_LEVELS,
    ),
    ModelSpec(
        "gemini-2.5-flash",
        "Gemini 2.5 Flash",
        "gemini25",
        thinking_budget=24576,
        recommended=False,
        model_version="gemini-2.5-flash",
    ),
    ModelSpec(
        "gemini-3.1-flash-image",
        "Gemini 3.1 Flash Image",
        "gemini3",
        max_output_tokens=32768,
        supports_thinking=False,
        thinking_budget=0,
        recommended=False,
        model_version="gemini-3.1-flash-image",
        image_output=True,
    ),
    _claude("claude-sonnet-4-6", "Claude Sonnet 4.6", "claude-sonnet-4-6"),
    _claude("claude-opus-4-6-thinking", "Claude Opus 4.6 (Thinking)", "claude-opus-4-6"),
    ModelSpec(
        "gpt-oss-120b-medium",
        "GPT-OSS 120B (Medium)",
        "gpt",
        max_tokens=114000,
        max_output_tokens=32768,
        supports_images=False,
        supports_thinking=False,
        thinking_budget=0,
        model_version="gpt-oss-120b",
        thinking_levels=None,
    ),
    ModelSpec(
        "chat_20706",
        "chat_20706",
        "gemini25",
        recommended=False,
        model_version="chat_20706",
        internal=True,
    ),
)

DEPRECATED_MODEL_IDS = {
    "gemini-3-pro-high": {"newModelId": "gemini-pro-agent"},
    "gemini-3.1-pro-high": {"newModelId": "gemini-pro-agent"},
}
WEB_SEARCH_MODEL_IDS = ("gemini-3-flash", "gemini-2.5-flash")


def default_catalogue() -> dict[str, ModelSpec]:
    return {spec.id: spec for spec in DEFAULT_MODELS}
