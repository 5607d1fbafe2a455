import pytest

from antigravity_manager.errors import UnknownModel
from antigravity_manager.routing.models import BUILTIN, glob_matches, resolve

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
