"""Pure parts of the Cloud Code setup calls: tiers, project forms, quota parsing."""

from __future__ import annotations

from typing import Any

import pytest

from antigravity_gateway.providers import cloudcode_setup as setup


@pytest.mark.parametrize(
    ("loaded", "tier"),
    [
        ({"paidTier": {"id": "g1-pro-tier", "name": "Google AI Pro"},
          "currentTier": {"id": "free-tier", "name": "Free"}}, "Google AI Pro"),
        ({"paidTier": {"id": "g1-pro-tier"}, "currentTier": {"id": "free-tier"}}, "g1-pro-tier"),
        ({"currentTier": {"id": "free-tier", "name": "Gemini Code Assist"}}, "Gemini Code Assist"),
        ({"currentTier": {"id": "standard-tier"}}, "standard-tier"),
        ({"currentTier": {"id": "free-tier"}, "ineligibleTiers": [{"reasonCode": "X"}],
          "allowedTiers": [{"id": "free-tier", "name": "Free", "isDefault": True}]},
         "Free (Restricted)"),
        ({}, ""),
    ],
)
def test_tier_name(loaded: dict[str, Any], tier: str) -> None:
    assert setup.tier_name(loaded) == tier


@pytest.mark.parametrize(
    ("value", "project"),
    [("rising-fact-p41fc", "rising-fact-p41fc"), ({"id": "p-1", "name": "P"}, "p-1"),
     (None, ""), ({"name": "no id"}, ""), (5, "")],
)
def test_project_id_of(value: Any, project: str) -> None:
    assert setup.project_id_of(value) == project


def test_default_tier() -> None:
    assert setup.default_tier({"allowedTiers": [
        {"id": "legacy-tier"}, {"id": "free-tier", "name": "Free", "isDefault": True}]}) == (
        "free-tier", "Free")
    assert setup.default_tier({"allowedTiers": [{"id": "standard-tier"}]}) == (
        "standard-tier", "standard-tier")
    assert setup.default_tier({}) == ("legacy-tier", "legacy-tier")


def test_parse_quota() -> None:
    body = {
        "models": {
            "gemini-3-flash": {
                "displayName": "Gemini 3 Flash", "maxTokens": 1048576, "maxOutputTokens": 65536,
                "supportsImages": True, "supportsThinking": True, "thinkingBudget": 32768,
                "recommended": True,
                "quotaInfo": {"remainingFraction": 0.7829875, "resetTime": "2026-08-05T02:38:57Z"},
            },
            "claude-opus-4-6-thinking": {"displayName": "Claude Opus 4.6 (Thinking)",
                                         "quotaInfo": {"resetTime": "2026-08-05T06:00:00Z"}},
            "no-quota-info": {"displayName": "X"},
            "chat_20706": {"quotaInfo": {"remainingFraction": 1}},
            "tab_flash_lite_preview": {},
        },
        "deprecatedModelIds": {"gemini-3-pro-high": {"newModelId": "gemini-pro-agent"}},
        "webSearchModelIds": ["gemini-3-flash"],
        "agentModelSorts": [],
    }
    quota = setup.parse_quota(body, now=42.0)
    assert sorted(quota.models) == ["claude-opus-4-6-thinking", "gemini-3-flash", "no-quota-info"]
    flash = quota.models["gemini-3-flash"]
    assert flash.percentage == 78 and flash.reset_time == "2026-08-05T02:38:57Z"
    assert (flash.max_output_tokens, flash.max_tokens) == (65536, 1048576)
    assert flash.thinking_budget == 32768
    assert flash.supports_images and flash.supports_thinking and flash.recommended
    opus = quota.models["claude-opus-4-6-thinking"]
    assert opus.remaining_fraction == 0.0 and opus.reset_time == "2026-08-05T06:00:00Z"
    assert quota.models["no-quota-info"].remaining_fraction == 0.0
    assert quota.forwarding == {"gemini-3-pro-high": "gemini-pro-agent"}
    assert quota.web_search_models == ["gemini-3-flash"] and quota.fetched_at == 42.0


def test_parse_quota_tolerates_odd_shapes() -> None:
    assert setup.parse_quota({}, now=1.0).models == {}
    odd = setup.parse_quota({"models": [], "deprecatedModelIds": {"a": "b"}}, now=1.0)
    assert odd.forwarding == {} and odd.models == {}
