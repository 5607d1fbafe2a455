import pytest

from antigravity_gateway.core.messages import Reasoning
from antigravity_gateway.errors import UnknownModel
from antigravity_gateway.routing.models import BUILTIN, RouteCache, glob_matches, resolve

OFFERED = {"gemini-3-flash", "gemini-3.1-pro-low", "claude-sonnet-4-6"}


@pytest.mark.parametrize(
    ("pattern", "name", "hit"),
    [
        ("gpt-4*", "gpt-4o", True),
        ("gpt-4*", "gpt-3.5", False),
        ("*-mini", "gpt-4o-mini", True),
        ("*-mini", "gpt-4o-mini-x", False),
        ("claude-*-sonnet-*", "claude-3-5-sonnet-2024", True),
        ("claude-*-sonnet-*", "claude-3-5-opus-2024", False),
        ("a*a", "a", False),
        ("a*a", "aa", True),
        ("*", "anything", True),
        ("exact", "exact", True),
    ],
)
def test_glob(pattern: str, name: str, hit: bool) -> None:
    assert glob_matches(pattern, name) is hit


def test_exact_custom_beats_everything() -> None:
    route = resolve("gpt-4o", {"gpt-4o": "gemini-3.1-pro-low", "gpt-*": "x"}, OFFERED)
    assert (route.upstream, route.rule) == ("gemini-3.1-pro-low", "custom")


def test_most_specific_wildcard_wins_regardless_of_order() -> None:
    for mapping in ({"gpt-*": "a", "gpt-4o*": "b"}, {"gpt-4o*": "b", "gpt-*": "a"}):
        assert resolve("gpt-4o-mini", mapping, OFFERED).upstream == "b"


def test_builtin_table_then_offered_names() -> None:
    assert resolve("gpt-4o", {}, OFFERED).upstream == BUILTIN["gpt-4o"]
    assert resolve("gemini-3-flash", {}, OFFERED).rule == "offered"


def test_unknown_model_names_close_matches() -> None:
    with pytest.raises(UnknownModel) as err:
        resolve("gemini-3-flsh", {}, OFFERED)
    assert "gemini-3-flash" in err.value.message


def test_unknown_catalogue_passes_names_through() -> None:
    assert resolve("whatever", {}, set()).upstream == "whatever"


CATALOGUE = {
    "gemini-3-flash",
    "gemini-3.1-pro-low",
    "gemini-pro-agent",
    "gemini-2.5-flash",
    "claude-sonnet-4-6",
    "claude-opus-4-6-thinking",
    "gpt-oss-120b-medium",
}


@pytest.mark.parametrize(
    ("name", "upstream"),
    [
        # names the table does not know yet: Claude Code's next defaults, Codex's, OpenAI's
        ("claude-opus-4-8", "claude-opus-4-6-thinking"),
        ("claude-opus-5-20270101", "claude-opus-4-6-thinking"),
        ("claude-sonnet-4-7", "claude-sonnet-4-6"),
        ("claude-3-7-sonnet-latest", "claude-sonnet-4-6"),
        ("claude-haiku-4-5-20251001", "gemini-3-flash"),
        ("claude-3-5-haiku-latest", "gemini-3-flash"),
        ("gpt-5-codex", "gemini-3-flash"),
        ("gpt-5.1", "gemini-3-flash"),
        ("chatgpt-4o-latest", "gemini-3-flash"),
        ("o1", "gemini-3-flash"),
        ("o3-mini", "gemini-3-flash"),
        ("o4-mini-high", "gemini-3-flash"),
    ],
)
def test_family_rules(name: str, upstream: str) -> None:
    route = resolve(name, {}, CATALOGUE)
    assert (route.upstream, route.rule) == (upstream, "family")


def test_family_rules_pick_the_best_offered_model() -> None:
    offered = {
        "claude-opus-4-6-thinking",
        "claude-opus-4-7",
        "claude-opus-4-7-thinking",
        "claude-sonnet-4-6",
        "claude-sonnet-4-6-thinking",
        "gemini-3.5-flash",
    }
    assert resolve("claude-opus-5", {}, offered).upstream == "claude-opus-4-7-thinking"
    assert resolve("claude-sonnet-9", {}, offered).upstream == "claude-sonnet-4-6"
    assert resolve("claude-sonnet-9-thinking", {}, offered).upstream == (
        "claude-sonnet-4-6-thinking"
    )
    assert resolve("claude-haiku-9", {}, offered).upstream == "gemini-3.5-flash"
    assert resolve("claude-haiku-9", {}, {"claude-sonnet-4-6"}).upstream == "claude-sonnet-4-6"


def test_unknown_catalogue_uses_the_family_defaults() -> None:
    assert resolve("claude-opus-4-8", {}, set()).upstream == "claude-opus-4-6-thinking"
    assert resolve("o3", {}, set()).upstream == "gemini-3-flash"


def test_custom_mapping_and_offered_names_come_before_family_rules() -> None:
    mapping = {"claude-opus-*": "gemini-pro-agent"}
    assert resolve("claude-opus-4-8", mapping, CATALOGUE).upstream == "gemini-pro-agent"
    assert resolve("gpt-oss-120b-medium", {}, CATALOGUE).rule == "offered"


@pytest.mark.parametrize(
    ("name", "upstream", "effort", "budget"),
    [
        ("gemini-3-flash(high)", "gemini-3-flash", "high", None),
        ("gemini-3-flash(LOW)", "gemini-3-flash", "low", None),
        ("gemini-3-flash(none)", "gemini-3-flash", "none", None),
        ("gemini-3-flash(xhigh)", "gemini-3-flash", "high", None),
        ("gemini-2.5-flash(8192)", "gemini-2.5-flash", None, 8192),
        ("gpt-4o(medium)", "gemini-3-flash", "medium", None),
        ("claude-opus-4-8(16384)", "claude-opus-4-6-thinking", None, 16384),
    ],
)
def test_level_suffix(name: str, upstream: str, effort: str | None, budget: int | None) -> None:
    route = resolve(name, {}, CATALOGUE)
    assert route.upstream == upstream and route.thinking is not None
    assert (route.thinking.effort, route.thinking.budget) == (effort, budget)
    # the suffix wins over the request's own setting
    assert route.reasoning_for(Reasoning(effort="minimal")) == route.thinking


def test_thinking_suffix_turns_thinking_on_unless_the_client_chose() -> None:
    route = resolve("gemini-3-flash-thinking", {}, CATALOGUE)
    assert (route.upstream, route.thinking) == ("gemini-3-flash", Reasoning())
    assert route.reasoning_for(None) == Reasoning()
    assert route.reasoning_for(Reasoning(effort="low")) == Reasoning(effort="low")
    # an upstream id that thinks by itself needs nothing more
    assert resolve("claude-opus-4-5-thinking", {}, CATALOGUE).thinking is None
    assert resolve("gemini-3-flash", {}, CATALOGUE).reasoning_for(None) is None


def test_bad_suffixes_are_unknown_models() -> None:
    with pytest.raises(UnknownModel):
        resolve("gemini-3-flash(turbo)", {}, CATALOGUE)
    with pytest.raises(UnknownModel):
        resolve("nonsense-thinking", {}, CATALOGUE)


def test_custom_mapping_may_name_a_suffixed_model() -> None:
    route = resolve("fast(high)", {"fast(high)": "gemini-3-flash"}, CATALOGUE)
    assert (route.upstream, route.thinking) == ("gemini-3-flash", None)


def test_upstream_deprecations_are_followed() -> None:
    route = resolve("gemini-3-flash", {}, CATALOGUE, {"gemini-3-flash": "gemini-3.5-flash"})
    assert route.upstream == "gemini-3.5-flash"


@pytest.mark.parametrize(
    ("name", "upstream"),
    [
        ("gemini-3.5-flash-lite", "gemini-3.1-flash-lite"),  # Gemini CLI's router model
        ("gemini-3.8-flash", "gemini-3-flash"),
        ("gemini-3.1-pro-preview", "gemini-3.1-pro-low"),
        ("gemini-9-pro", "gemini-3.1-pro-low"),
        ("gemini-4-flash-image", "gemini-3.1-flash-image"),
    ],
)
def test_gemini_names_the_accounts_do_not_offer(name: str, upstream: str) -> None:
    offered = {
        "gemini-3-flash",
        "gemini-3.1-pro-low",
        "gemini-3.1-flash-lite",
        "gemini-3.1-flash-image",
        "claude-sonnet-4-6",
    }
    assert resolve(name, {}, offered).upstream == upstream


def test_unknown_gemini_image_model_without_image_accounts_is_404() -> None:
    with pytest.raises(UnknownModel):
        resolve("gemini-4-pro-image", {}, {"gemini-3-flash"})


def test_route_cache_keeps_routes_while_the_basis_is_the_same_objects() -> None:
    cache = RouteCache()
    settings, accounts = object(), ("a",)
    route = resolve("gemini-3-flash", {}, [])
    assert cache.get("gemini-3-flash", (settings, accounts)) is None
    assert cache.put("gemini-3-flash", route) is route
    assert cache.get("gemini-3-flash", (settings, accounts)) is route
    # an equal but new tuple of accounts is a change (a refreshed token, a disabled account)
    assert cache.get("gemini-3-flash", (settings, tuple(["a"]))) is None
    assert cache.get("gemini-3-flash", (object(), accounts)) is None


def test_route_cache_forgets_everything_beyond_its_size() -> None:
    cache = RouteCache()
    basis = (object(),)
    for n in range(RouteCache.SIZE + 1):
        cache.get(f"m{n}", basis)
        cache.put(f"m{n}", resolve(f"m{n}", {}, []))
    assert cache.get("m0", basis) is None
    assert cache.get(f"m{RouteCache.SIZE}", basis) is not None
