"""Cloud Code control-plane calls: project discovery (with onboarding) and the quota snapshot.

Built on `CloudCode.call`/`get_operation` (so base-URL fallback applies), following
docs/upstream.md §2. Pure parsing
helpers sit next to the calls; nothing here touches tokens' lifetime or the disk.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from ..accounts.store import ModelQuota, Quota
from ..errors import GatewayError, UpstreamError
from .cloudcode import CloudCode

log = logging.getLogger(__name__)

METADATA = {"ideType": "ANTIGRAVITY", "platform": "PLATFORM_UNSPECIFIED", "pluginType": "GEMINI"}
HIDDEN_PREFIXES = ("chat_", "tab_")  # internal entries every client hides (§2.3)
DEFAULT_TIER = "legacy-tier"  # gemini-cli's choice when no allowed tier is marked default

Sleep = Callable[[float], Awaitable[None]]


class AccountSetupError(GatewayError):
    """The account cannot be given a Cloud Code project (ineligible, or onboarding never ends)."""

    status = 503
    kind = "overloaded"


class ValidationRequired(AccountSetupError):
    """Google wants the user to verify the account in a browser first (`validation_url`)."""

    status = 403
    kind = "permission"

    def __init__(self, message: str, url: str) -> None:
        super().__init__(f"{message} Verify the account at {url}" if url else message)
        self.validation_url = url


@dataclass(frozen=True, slots=True)
class ProjectInfo:
    """The account's Cloud Code project and its tier, as discovery found them."""

    project_id: str
    tier: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Polling:
    """How onboarding is polled; tests pass a zero interval or a fake sleep."""

    interval: float = 2.0
    attempts: int = 10
    sleep: Sleep = asyncio.sleep


async def discover_project(
    cc: CloudCode, token: str, polling: Polling | None = None
) -> ProjectInfo:
    """loadCodeAssist; onboardUser with the default allowed tier when not onboarded yet."""
    loaded = await cc.call("loadCodeAssist", token, {"metadata": METADATA})
    tier = tier_name(loaded)
    if loaded.get("currentTier"):
        project = project_id_of(loaded.get("cloudaicompanionProject"))
        if not project:
            raise AccountSetupError("loadCodeAssist returned no project for this account")
        return ProjectInfo(project, tier)
    _check_eligible(loaded)
    tier_id, tier_label = default_tier(loaded)
    body = {"tierId": tier_id, "metadata": METADATA}  # no project: free-tier rejects one (§2.2)
    project = await _onboard(cc, token, body, polling or Polling())
    return ProjectInfo(project, tier if loaded.get("paidTier") else tier_label or tier)


async def _onboard(cc: CloudCode, token: str, body: dict[str, Any], polling: Polling) -> str:
    """Polls by GET on the operation name when one is given, else by re-POSTing (§2.2)."""
    op = await cc.call("onboardUser", token, body)
    for _ in range(polling.attempts):
        if op.get("done"):
            response = op.get("response")
            project = project_id_of(response.get("cloudaicompanionProject")
                                    if isinstance(response, dict) else None)
            if not project:
                raise AccountSetupError("onboarding finished without a project")
            return project
        await polling.sleep(polling.interval)
        op = await _poll(cc, token, body, op)
    raise AccountSetupError(f"onboarding did not finish after {polling.attempts} polls")


async def _poll(
    cc: CloudCode, token: str, body: dict[str, Any], op: dict[str, Any]
) -> dict[str, Any]:
    name = op.get("name")
    if isinstance(name, str) and name:
        try:
            return await cc.get_operation(name, token)
        except UpstreamError as exc:
            if exc.upstream_status != 404:
                raise
            log.info("operation polling unsupported (404); re-posting onboardUser")
    return await cc.call("onboardUser", token, body)


def project_id_of(value: Any) -> str:
    """`cloudaicompanionProject` is a plain string or an `{id, name}` object."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        return str(value["id"])
    return ""


def _check_eligible(loaded: dict[str, Any]) -> None:
    ineligible = [t for t in loaded.get("ineligibleTiers") or [] if isinstance(t, dict)]
    for t in ineligible:
        if t.get("reasonCode") == "VALIDATION_REQUIRED" and t.get("validationUrl"):
            message = str(t.get("validationErrorMessage") or t.get("reasonMessage")
                          or "Google requires account verification.")
            raise ValidationRequired(message.strip(), str(t["validationUrl"]))
    if ineligible and not loaded.get("allowedTiers"):
        reasons = "; ".join(str(t.get("reasonMessage") or t.get("reasonCode")) for t in ineligible)
        raise AccountSetupError(f"account not eligible for Cloud Code: {reasons}")


def default_tier(loaded: dict[str, Any]) -> tuple[str, str]:
    """(id, display name) of the allowed tier marked `isDefault`, else the first one."""
    tiers = [t for t in loaded.get("allowedTiers") or [] if isinstance(t, dict)]
    chosen = next((t for t in tiers if t.get("isDefault")), tiers[0] if tiers else {})
    tier_id = str(chosen.get("id") or DEFAULT_TIER)
    return tier_id, str(chosen.get("name") or tier_id)


def tier_name(loaded: dict[str, Any]) -> str:
    """paidTier name/id, else (when eligible) currentTier name/id, else "<default> (Restricted)"."""
    for key in ("paidTier", "currentTier"):
        tier = loaded.get(key)
        if key == "currentTier" and loaded.get("ineligibleTiers"):
            break
        if isinstance(tier, dict) and (tier.get("name") or tier.get("id")):
            return str(tier.get("name") or tier.get("id"))
    if loaded.get("ineligibleTiers"):
        _, label = default_tier(loaded)
        return f"{label} (Restricted)"
    return ""


async def fetch_quota(
    cc: CloudCode, token: str, project: str, *, now: float | None = None
) -> Quota:
    """fetchAvailableModels; on 403 with a project, once more without it (docs/upstream.md §2.3)."""
    try:
        body = await cc.call("fetchAvailableModels", token, {"project": project} if project else {})
    except UpstreamError as exc:
        if exc.upstream_status != 403 or not project:
            raise
        body = await cc.call("fetchAvailableModels", token, {})
    return parse_quota(body, now=time.time() if now is None else now)


def parse_quota(body: dict[str, Any], *, now: float) -> Quota:
    """The quota snapshot of a fetchAvailableModels answer; internal ids are dropped."""
    models = body.get("models")
    entries = models if isinstance(models, dict) else {}
    forwarding = {
        old: str(new["newModelId"])
        for old, new in (body.get("deprecatedModelIds") or {}).items()
        if isinstance(new, dict) and new.get("newModelId")
    }
    return Quota(
        models={
            name: _model_quota(info)
            for name, info in entries.items()
            if isinstance(info, dict) and not name.startswith(HIDDEN_PREFIXES)
        },
        forwarding=forwarding,
        web_search_models=[str(m) for m in body.get("webSearchModelIds") or []],
        fetched_at=now,
    )


def _model_quota(info: dict[str, Any]) -> ModelQuota:
    raw = info.get("quotaInfo")
    quota: dict[str, Any] = raw if isinstance(raw, dict) else {}
    # remainingFraction is proto3 JSON: omitted when it is 0 (§2.3).
    return ModelQuota(
        remaining_fraction=float(quota.get("remainingFraction") or 0.0),
        reset_time=str(quota.get("resetTime") or ""),
        display_name=str(info.get("displayName") or ""),
        max_tokens=_int(info.get("maxTokens")),
        max_output_tokens=_int(info.get("maxOutputTokens")),
        supports_images=bool(info.get("supportsImages")),
        supports_thinking=bool(info.get("supportsThinking")),
        thinking_budget=_int(info.get("thinkingBudget")),
        recommended=bool(info.get("recommended")),
    )


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
