"""Control-plane methods of the simulator: setup (loadCodeAssist, onboardUser, operations), model
list and quota (fetchAvailableModels, retrieveUserQuota[Summary]) and gemini-cli's auxiliary calls.

Shapes follow docs/upstream.md §2. Runs under the state
lock. Deliberately minimal for the auxiliary methods (constant answers).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.fakes.accounts import Account, Quota
from tests.fakes.calls import Call
from tests.fakes.catalogue import DEPRECATED_MODEL_IDS, WEB_SEARCH_MODEL_IDS
from tests.fakes.envelope import camel
from tests.fakes.errors import (
    LEARN_MORE_URL,
    VALIDATION_URL,
    FaultError,
    failed_precondition,
    invalid_argument,
    not_found,
    rfc3339,
    validation_required,
)
from tests.fakes.generate import check_project
from tests.fakes.wire import Outcome, json_outcome

TIERS = {
    "free-tier": (
        "Gemini Code Assist for individuals",
        "Gemini Code Assist for individuals, free of charge.",
    ),
    "legacy-tier": ("Gemini Code Assist", "Gemini Code Assist for individuals (legacy)."),
    "standard-tier": (
        "Gemini Code Assist Standard",
        "Gemini Code Assist for teams, billed to your Google Cloud project.",
    ),
}
ALLOWED_TIERS = ("free-tier", "standard-tier")
PAID_TIERS = {"g1-pro-tier": "Google AI Pro", "g1-ultra-tier": "Google AI Ultra"}
ONBOARD_RESPONSE_TYPE = (
    "type.googleapis.com/google.internal.cloud.code.v1internal.OnboardUserResponse"
)


def _json(call: Call, data: Any) -> Outcome:
    return json_outcome(data, call.trace_id)


def _tier(tier_id: str, current: bool = False) -> dict[str, Any]:
    name, description = TIERS.get(tier_id, (tier_id, ""))
    tier: dict[str, Any] = {
        "id": tier_id,
        "name": name,
        "description": description,
        "userDefinedCloudaicompanionProject": tier_id != "free-tier",
    }
    if current:
        tier.update(
            privacyNotice={"showNotice": False}, hasAcceptedTos=True, hasOnboardedPreviously=True
        )
    elif tier_id == ALLOWED_TIERS[0]:
        tier["isDefault"] = True
    return tier


def _project_value(account: Account) -> Any:
    if account.project_form == "object":
        return {"id": account.project, "name": account.project}
    return account.project


def load_code_assist(call: Call) -> Outcome:
    account = call.account
    body: dict[str, Any] = {"allowedTiers": [_tier(tier) for tier in ALLOWED_TIERS]}
    if account.validation_required:
        body["ineligibleTiers"] = [_validation_tier()]
    elif account.onboarded:
        body["currentTier"] = _tier(account.tier, current=True)
        body["cloudaicompanionProject"] = _project_value(account)
    if account.paid_tier:
        body["paidTier"] = _paid_tier(account)
    return _json(call, body)


def _validation_tier() -> dict[str, str]:
    return {
        "reasonCode": "VALIDATION_REQUIRED",
        "reasonMessage": "Verify your account to continue.",
        "tierId": "free-tier",
        "tierName": TIERS["free-tier"][0],
        "validationErrorMessage": "Verify your account to continue.",
        "validationUrl": VALIDATION_URL,
        "validationUrlLinkText": "Verify your account",
        "validationLearnMoreUrl": LEARN_MORE_URL,
        "validationLearnMoreLinkText": "Learn more",
    }


def _paid_tier(account: Account) -> dict[str, Any]:
    tier: dict[str, Any] = {
        "id": account.paid_tier,
        "name": PAID_TIERS.get(account.paid_tier or "", account.paid_tier),
    }
    if account.credits is not None:
        tier["availableCredits"] = [
            {
                "creditType": "GOOGLE_ONE_AI",
                "creditAmount": str(account.credits),
                "minimumCreditAmountForUsage": "50",
            }
        ]
    return tier


def onboard_user(call: Call) -> Outcome:
    """Starts (or, when re-POSTed, continues) the onboarding operation; see `operation`."""
    body = {camel(key): value for key, value in call.body.items()}
    tier = body.get("tierId") or ALLOWED_TIERS[0]
    project = body.get("cloudaicompanionProject")
    if call.account.validation_required:
        raise FaultError(validation_required())
    if tier not in ALLOWED_TIERS:
        raise FaultError(invalid_argument(f"Invalid tier id: {tier}.", "tier_id"))
    if (
        tier == "free-tier" and project
    ):  # gemini-cli: a project on free-tier gives "Precondition Failed"
        raise FaultError(failed_precondition())
    if tier != "free-tier" and not project:
        raise FaultError(failed_precondition("A Google Cloud project is required for this tier."))
    if not call.account.onboarded:
        call.account.tier = tier
        call.account.project = project or call.account.project
    return _operation_step(call, call.account)


def operation(call: Call) -> Outcome:
    """GET /v1internal/<operation name>: polls the caller's onboarding operation."""
    if call.account.operation != call.operation:
        raise FaultError(not_found())
    return _operation_step(call, call.account)


def _operation_step(call: Call, account: Account) -> Outcome:
    if account.operation is None:
        account.operation = "operations/" + call.fake.ids.hex(24)
    if not account.onboarded and account.onboard_polls > 0:
        account.onboard_polls -= 1
        return _json(call, {"name": account.operation, "done": False})
    account.onboarded = True
    project = {"id": account.project, "name": account.project}
    response = {"@type": ONBOARD_RESPONSE_TYPE, "cloudaicompanionProject": project}
    return _json(call, {"name": account.operation, "done": True, "response": response})


def _quota_info(quota: Quota) -> dict[str, Any]:
    """proto3 JSON: remainingFraction is omitted when it is 0."""
    info: dict[str, Any] = {}
    if quota.remaining_fraction() > 0:
        info["remainingFraction"] = quota.remaining_fraction()
    info["resetTime"] = rfc3339(quota.reset_at)
    return info


def fetch_available_models(call: Call) -> Outcome:
    check_project(call, call.body.get("project"))
    models = {
        spec.id: {
            **spec.describe(),
            "quotaInfo": _quota_info(call.account.quota_for(spec.id, call.now)),
        }
        for spec in call.fake.models.values()
    }
    body = {
        "models": models,
        "deprecatedModelIds": DEPRECATED_MODEL_IDS,
        "webSearchModelIds": [m for m in WEB_SEARCH_MODEL_IDS if m in models],
        "agentModelSorts": [],
    }
    return _json(call, body)


def retrieve_user_quota(call: Call) -> Outcome:
    buckets = []
    for spec in call.fake.models.values():
        if spec.internal:
            continue
        quota = call.account.quota_for(spec.id, call.now)
        bucket: dict[str, Any] = {"modelId": spec.id, "tokenType": "REQUESTS", **_quota_info(quota)}
        if quota.remaining_amount() is not None:
            bucket["remainingAmount"] = str(quota.remaining_amount())
        buckets.append(bucket)
    return _json(call, {"buckets": buckets})


def retrieve_user_quota_summary(call: Call) -> Outcome:
    """AGM's grouped view: one 5-hour bucket per model family (minimum fraction, earliest reset)."""
    families: dict[str, list[Quota]] = {}
    for spec in call.fake.models.values():
        if not spec.internal:
            families.setdefault(spec.family.rstrip("0123456789"), []).append(
                call.account.quota_for(spec.id, call.now)
            )
    groups = []
    for family, quotas in families.items():
        lowest = min(quotas, key=lambda quota: (quota.remaining_fraction(), quota.reset_at))
        bucket = {
            "bucketId": f"{family}-5h",
            "window": "18000s",
            "displayName": "5-hour limit",
            "description": "",
            **_quota_info(lowest),
        }
        groups.append(
            {
                "displayName": family.title(),
                "description": f"{family.title()} models",
                "buckets": [bucket],
            }
        )
    return _json(call, {"groups": groups})


def user_setting(call: Call) -> Outcome:
    """get/setCodeAssistGlobalUserSetting (the setter only echoes its input)."""
    opt_in = bool(call.body.get("freeTierDataCollectionOptin", False))
    return _json(
        call,
        {"cloudaicompanionProject": call.account.project, "freeTierDataCollectionOptin": opt_in},
    )


def _constant(data: dict[str, Any]) -> Callable[[Call], Outcome]:
    return lambda call: _json(call, data)


CONTROL_METHODS: dict[str, Callable[[Call], Outcome]] = {
    "loadCodeAssist": load_code_assist,
    "onboardUser": onboard_user,
    "fetchAvailableModels": fetch_available_models,
    "retrieveUserQuota": retrieve_user_quota,
    "retrieveUserQuotaSummary": retrieve_user_quota_summary,
    "listExperiments": _constant({"experimentIds": [], "flags": []}),
    "fetchAdminControls": _constant({}),
    "recordCodeAssistMetrics": _constant({}),
    "getCodeAssistGlobalUserSetting": user_setting,
    "setCodeAssistGlobalUserSetting": user_setting,
}
