"""Model-name suffixes: -online and image size / ratio (docs/upstream.md §11.5)."""

from __future__ import annotations

import pytest

from antigravity_gateway.core.messages import ChatRequest, ImageOptions, Message, Text
from antigravity_gateway.routing import models, variants


@pytest.mark.parametrize(
    ("name", "base", "search", "image"),
    [
        ("gemini-3-flash", "gemini-3-flash", False, None),
        ("gemini-3-flash-online", "gemini-3-flash", True, None),
        ("gemini-3.1-flash-image", "gemini-3.1-flash-image", False, None),
        ("gemini-3.1-flash-image-4k", "gemini-3.1-flash-image", False, ImageOptions(size="4K")),
        ("gemini-3.1-flash-image-16x9-2k", "gemini-3.1-flash-image", False,
         ImageOptions(aspect_ratio="16:9", size="2K")),
        ("gemini-3-pro-image-hd-21-9", "gemini-3-pro-image", False,
         ImageOptions(aspect_ratio="21:9", size="4K")),
        ("gemini-3.1-flash-image-7x3", "gemini-3.1-flash-image-7x3", False, None),  # no ratio
        ("claude-sonnet-4-6-2k", "claude-sonnet-4-6-2k", False, None),  # not an image model
    ],
)  # fmt: skip
def test_split(name: str, base: str, search: bool, image: ImageOptions | None) -> None:
    assert variants.split(name) == variants.Variant(base, search, image)


def test_listed_variants_cover_sizes_and_ratios() -> None:
    listed = variants.listed_variants("m-image")
    assert len(listed) == 21 and "m-image" in listed and "m-image-4k-16x9" in listed


def test_route_applies_suffixes_and_the_request_wins_field_by_field() -> None:
    route = models.resolve("gemini-3.1-flash-image-4k-16x9", {}, {"gemini-3.1-flash-image"})
    assert route.upstream == "gemini-3.1-flash-image" and route.requested.endswith("16x9")
    req = ChatRequest(
        model=route.requested,
        messages=(Message(role="user", parts=(Text(text="x"),)),),
        image=ImageOptions(aspect_ratio="1:1"),
    )
    assert route.applied_to(req).image == ImageOptions(aspect_ratio="1:1", size="4K")
    online = models.resolve("gpt-4o-online", {}, set())
    assert online.upstream == "gemini-3-flash" and online.web_search
    assert online.applied_to(req).web_search


def test_custom_mapping_of_the_full_name_wins() -> None:
    route = models.resolve("my-online", {"my-online": "claude-sonnet-4-6"}, set())
    assert route.upstream == "claude-sonnet-4-6" and not route.web_search
