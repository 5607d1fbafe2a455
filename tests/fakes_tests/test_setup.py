"""Control plane: loadCodeAssist, onboarding (re-POST and GET polls), models, quota, countTokens."""

from __future__ import annotations

import re

import pytest

from tests.fakes_tests.helpers import Client, envelope

RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


async def test_load_code_assist_onboarded(client: Client) -> None:
    status, body = await client.json("loadCodeAssist", {"metadata": {"ideType": "ANTIGRAVITY"}})
    assert status == 200
    assert (
        body["currentTier"]["id"] == "free-tier"
        and body["cloudaicompanionProject"] == "fake-project-1"
    )
    assert [tier["id"] for tier in body["allowedTiers"] if tier.get("isDefault")] == ["free-tier"]
    assert "paidTier" not in body and "ineligibleTiers" not in body


async def test_load_code_assist_object_form_and_paid_tier(client: Client) -> None:
    client.fake.add_account(
        "b@example.com", project="p-b", project_form="object", paid_tier="g1-pro-tier", credits=1000
    )
    _, body = await client.json(
        "loadCodeAssist", {}, token=client.fake.issue_token("b@example.com")
    )
    assert body["cloudaicompanionProject"] == {"id": "p-b", "name": "p-b"}
    assert body["paidTier"]["availableCredits"][0] == {
        "creditType": "GOOGLE_ONE_AI",
        "creditAmount": "1000",
        "minimumCreditAmountForUsage": "50",
    }


async def test_load_code_assist_validation_required(client: Client) -> None:
    client.fake.add_account("v@example.com", validation_required=True)
    _, body = await client.json(
        "loadCodeAssist", {}, token=client.fake.issue_token("v@example.com")
    )
    assert "currentTier" not in body and "cloudaicompanionProject" not in body
    [tier] = body["ineligibleTiers"]
    assert tier["reasonCode"] == "VALIDATION_REQUIRED" and tier["validationUrl"].startswith(
        "https://"
    )


@pytest.mark.parametrize("style", ["repost", "get"])
async def test_onboarding_polls_then_completes(client: Client, style: str) -> None:
    client.fake.add_account(
        "new@example.com", onboarded=False, onboard_polls=2, project="zinc-cell-6bkmb"
    )
    token = client.fake.issue_token("new@example.com")
    _, body = await client.json("loadCodeAssist", {}, token=token)
    assert "currentTier" not in body and "cloudaicompanionProject" not in body
    request = {"tier_id": "free-tier", "metadata": {"ide_type": "ANTIGRAVITY"}}
    _, first = await client.json("onboardUser", request, token=token)
    assert first["done"] is False and first["name"].startswith("operations/")
    answers = []
    for _ in range(2):
        if style == "repost":
            answers.append((await client.json("onboardUser", request, token=token))[1])
        else:
            url = f"{client.fake.url('prod')}/v1internal/{first['name']}"
            async with client.session.get(
                url, headers={"Authorization": f"Bearer {token}"}
            ) as response:
                answers.append(await response.json())
    assert [answer["done"] for answer in answers] == [False, True]
    assert answers[-1]["response"]["cloudaicompanionProject"] == {
        "id": "zinc-cell-6bkmb",
        "name": "zinc-cell-6bkmb",
    }
    _, body = await client.json("loadCodeAssist", {}, token=token)
    assert body["cloudaicompanionProject"] == "zinc-cell-6bkmb"


async def test_onboarding_free_tier_with_project_is_failed_precondition(client: Client) -> None:
    status, body = await client.json(
        "onboardUser", {"tierId": "free-tier", "cloudaicompanionProject": "x"}
    )
    assert status == 400 and body["error"]["status"] == "FAILED_PRECONDITION"


async def test_not_onboarded_account_cannot_generate(client: Client) -> None:
    client.fake.add_account("new@example.com", onboarded=False)
    status, _, _ = await client.call(
        "generateContent", envelope(), token=client.fake.issue_token("new@example.com")
    )
    assert status == 403


async def test_fetch_available_models_shape(client: Client) -> None:
    client.fake.add_account(
        "q@example.com", quota={"claude-sonnet-4-6": 0.0, "gemini-3-flash": 0.25}
    )
    status, body = await client.json(
        "fetchAvailableModels",
        {"project": "fake-project-2"},
        token=client.fake.issue_token("q@example.com"),
    )
    assert status == 200
    models = body["models"]
    assert {
        "gemini-3-flash",
        "gemini-3.1-pro-low",
        "gemini-pro-agent",
        "gemini-2.5-flash",
        "claude-sonnet-4-6",
        "claude-opus-4-6-thinking",
        "gpt-oss-120b-medium",
        "chat_20706",
    } <= set(models)
    flash = models["gemini-3-flash"]
    assert {
        "displayName",
        "maxTokens",
        "maxOutputTokens",
        "supportsImages",
        "supportsThinking",
        "thinkingBudget",
        "recommended",
        "quotaInfo",
    } <= set(flash)
    assert flash["quotaInfo"]["remainingFraction"] == 0.25 and RFC3339.match(
        flash["quotaInfo"]["resetTime"]
    )
    assert models["claude-sonnet-4-6"]["quotaInfo"].keys() == {"resetTime"}  # 0 is omitted (proto3)
    assert body["deprecatedModelIds"]["gemini-3-pro-high"] == {"newModelId": "gemini-pro-agent"}
    assert "gemini-3-flash" in body["webSearchModelIds"]


async def test_fetch_available_models_foreign_project_is_403(client: Client) -> None:
    assert (await client.call("fetchAvailableModels", {"project": "someone-elses"}))[0] == 403


async def test_count_tokens_both_shapes(client: Client) -> None:
    contents = [{"role": "user", "parts": [{"text": "one two three four five six seven eight"}]}]
    _, cli = await client.json(
        "countTokens", {"request": {"model": "models/gemini-3-flash", "contents": contents}}
    )
    _, cpa = await client.json(
        "countTokens",
        {"requestId": "agent-1", "request": {"contents": contents, "sessionId": "-1"}},
    )
    _, longer = await client.json("countTokens", {"request": {"contents": contents * 3}})
    assert cli == cpa and cli["totalTokens"] > 1
    assert longer["totalTokens"] > cli["totalTokens"]


async def test_count_tokens_rejects_top_level_model_and_unknown_model(client: Client) -> None:
    contents = [{"role": "user", "parts": [{"text": "hi"}]}]
    assert (
        await client.call(
            "countTokens", {"model": "gemini-3-flash", "request": {"contents": contents}}
        )
    )[0] == 400
    assert (
        await client.call(
            "countTokens", {"request": {"model": "models/nope", "contents": contents}}
        )
    )[0] == 404


async def test_retrieve_user_quota_buckets(client: Client) -> None:
    client.fake.add_account("l@example.com", limits={"gemini-2.5-flash": 4})
    _, body = await client.json(
        "retrieveUserQuota", {"project": "x"}, token=client.fake.issue_token("l@example.com")
    )
    bucket = next(b for b in body["buckets"] if b["modelId"] == "gemini-2.5-flash")
    assert bucket == {
        "modelId": "gemini-2.5-flash",
        "tokenType": "REQUESTS",
        "remainingFraction": 1.0,
        "resetTime": bucket["resetTime"],
        "remainingAmount": "4",
    }
    assert all(b["modelId"] != "chat_20706" for b in body["buckets"])


@pytest.mark.parametrize(
    "method, expected",
    [
        ("listExperiments", {"experimentIds": [], "flags": []}),
        ("fetchAdminControls", {}),
        ("recordCodeAssistMetrics", {}),
        (
            "getCodeAssistGlobalUserSetting",
            {"cloudaicompanionProject": "fake-project-1", "freeTierDataCollectionOptin": False},
        ),
    ],
)
async def test_auxiliary_methods(client: Client, method: str, expected: dict) -> None:
    assert await client.json(method, {"project": "fake-project-1"}) == (200, expected)


async def test_quota_summary_groups(client: Client) -> None:
    _, body = await client.json("retrieveUserQuotaSummary", {})
    assert {group["displayName"] for group in body["groups"]} == {"Gemini", "Claude", "Gpt"}
