"""Model-name suffixes that ask for a capability rather than a model. Pure.

`-online` turns on web-search grounding; an image model's `-4k` / `-2k` / `-1k` (also `-hd`,
`-medium`, `-standard`) and ratio suffixes (`-16x9`, `-16-9`, ...) set its imageConfig
(docs/upstream.md §11.5). `split` strips them, so routing sees the base name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..core.messages import ImageOptions

ONLINE = "-online"
RATIOS = ("21:9", "16:9", "4:3", "3:4", "9:16", "3:2", "2:3", "5:4", "4:5", "1:1")
LISTED_RATIOS = ("1x1", "4x3", "3x4", "16x9", "9x16", "21x9")  # what /v1/models spells out
LISTED_SIZES = ("2k", "4k")
_SIZE_WORDS = {"4k": "4K", "hd": "4K", "2k": "2K", "medium": "2K", "1k": "1K", "standard": "1K"}
_SUFFIX = re.compile(r"-(4k|2k|1k|hd|medium|standard|\d{1,2}[x-]\d{1,2})$")


@dataclass(frozen=True, slots=True)
class Variant:
    """A model name split into its base name and what its suffixes ask for."""

    base: str
    web_search: bool = False
    image: ImageOptions | None = None


def is_image_model(name: str) -> bool:
    return "image" in name.lower()


def split(name: str) -> Variant:
    """`gemini-3-flash-online` -> web search on `gemini-3-flash`;
    `gemini-3.1-flash-image-4k-16x9` -> imageConfig {16:9, 4K} on `gemini-3.1-flash-image`."""
    web_search = name.endswith(ONLINE)
    base = name.removesuffix(ONLINE)
    if not is_image_model(base):
        return Variant(base, web_search)
    ratio = size = ""
    while (match := _SUFFIX.search(base)) is not None:
        word = match[1]
        if word in _SIZE_WORDS:
            size = size or _SIZE_WORDS[word]
        elif (found := _ratio(word)) is not None:
            ratio = ratio or found
        else:
            break
        base = base[: match.start()]
    image = ImageOptions(aspect_ratio=ratio, size=size) if ratio or size else None
    return Variant(base, web_search, image)


def _ratio(word: str) -> str | None:
    ratio = re.sub(r"[x-]", ":", word)
    return ratio if ratio in RATIOS else None


def listed_variants(image_model: str) -> list[str]:
    """The suffixed names `/v1/models` lists for an image model (as the reference does)."""
    sizes = ("", *(f"-{s}" for s in LISTED_SIZES))
    ratios = ("", *(f"-{r}" for r in LISTED_RATIOS))
    return [f"{image_model}{s}{r}" for s in sizes for r in ratios]
