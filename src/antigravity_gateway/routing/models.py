"""Model routing: the client's model name -> the upstream model id (and thinking). Pure.

Order (docs/upstream.md §10.3, improved): an exact custom mapping key, then its wildcard keys,
the built-in table, the name itself when some account offers it, then a family rule for names
the table does not know yet, so new client defaults work without configuration. API-key
upstreams (`[[upstreams]]`) claim `upstream/model` and their `models` globs before the wildcards.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace

import msgspec

from ..core.messages import ChatRequest, Effort, ImageOptions, Reasoning
from ..errors import UnknownModel
from . import variants

_GEMINI_DEFAULT = "gemini-3-flash"
_SONNET = "claude-sonnet-4-6"
_OPUS = "claude-opus-4-6-thinking"
THINKING = "-thinking"

BUILTIN: Mapping[str, str] = {
    **dict.fromkeys(
        [
            "claude-sonnet-4-5",
            "claude-3-5-sonnet-20241022",
            "claude-3-5-sonnet-20240620",
        ],
        _SONNET,
    ),
    "claude-sonnet-4-5-thinking": "claude-sonnet-4-6-thinking",
    "claude-sonnet-4-5-20250929": "claude-sonnet-4-6-thinking",
    **dict.fromkeys(
        [
            "claude-opus-4",
            "claude-opus-4-5-thinking",
            "claude-opus-4-5-20251101",
            "claude-opus-4-6",
            "claude-opus-4.6-thinking",
            "claude-opus-4.6",
            "claude-opus-4-6-20260201",
        ],
        _OPUS,
    ),
    **dict.fromkeys(
        [
            "gpt-4",
            "gpt-4-turbo",
            "gpt-4-turbo-preview",
            "gpt-4-0125-preview",
            "gpt-4-1106-preview",
            "gpt-4-0613",
            "gpt-4o",
            "gpt-4o-2024-05-13",
            "gpt-4o-2024-08-06",
            "gpt-4o-mini",
            "gpt-4o-mini-2024-07-18",
            "gpt-3.5-turbo",
            "gpt-3.5-turbo-16k",
            "gpt-3.5-turbo-0125",
            "gpt-3.5-turbo-1106",
            "gpt-3.5-turbo-0613",
        ],
        _GEMINI_DEFAULT,
    ),
    "gemini-3.1-pro-high": "gemini-pro-agent",
    "gemini-3-pro-high": "gemini-pro-agent",
    "gemini-3.1-pro": "gemini-3.1-pro-low",
    "gemini-3-pro": "gemini-3.1-pro-low",
    "internal-background-task": _GEMINI_DEFAULT,
}


@dataclass(frozen=True, slots=True)
class Route:
    """Where a model name goes: the upstream id, the rule that chose it, what its suffixes ask."""

    requested: str
    upstream: str
    rule: str  # "custom", "wildcard", "builtin", "offered", "family", "upstream" or "zai"
    thinking: Reasoning | None = None  # what the name's suffix asks for
    level_suffix: bool = False  # `(high)`: the suffix wins over the request's own setting
    provider: str = ""  # the API-key upstream serving it; "" is the Google account pool
    web_search: bool = False  # `-online`
    image: ImageOptions | None = None  # an image model's size / ratio suffixes

    def applied_to(self, req: ChatRequest) -> ChatRequest:
        """`req` with what the name's suffixes ask for: thinking, web search, image options
        (the request's own image settings win field by field)."""
        image = req.image
        if self.image is not None:
            mine = image or ImageOptions()
            image = ImageOptions(
                aspect_ratio=mine.aspect_ratio or self.image.aspect_ratio,
                size=mine.size or self.image.size,
            )
        return msgspec.structs.replace(
            req,
            reasoning=self.reasoning_for(req.reasoning),
            web_search=req.web_search or self.web_search,
            image=image,
        )

    @property
    def mapped(self) -> str:
        """What X-Mapped-Model shows: the upstream model, prefixed by its upstream's name."""
        return f"{self.provider}/{self.upstream}" if self.provider else self.upstream

    def reasoning_for(self, requested: Reasoning | None) -> Reasoning | None:
        """The request's reasoning with the suffix applied."""
        if self.thinking is None or (requested is not None and not self.level_suffix):
            return requested
        return self.thinking


class RouteCache:
    """Routes by model name, kept while `resolve`'s inputs are the very same objects (the
    settings, the accounts, the upstreams): resolving costs ~5 us, a lookup 0.3."""

    SIZE = 512  # client model names are arbitrary strings: forget them all beyond this

    def __init__(self) -> None:
        self._basis: tuple[object, ...] = ()
        self._routes: dict[str, Route] = {}

    def get(self, name: str, basis: tuple[object, ...]) -> Route | None:
        same = len(basis) == len(self._basis) and all(
            a is b for a, b in zip(basis, self._basis, strict=True))
        if not same:
            self._basis, self._routes = basis, {}
        return self._routes.get(name)

    def put(self, name: str, route: Route) -> Route:
        if len(self._routes) >= self.SIZE:
            self._routes.clear()
        self._routes[name] = route
        return route


def glob_matches(pattern: str, name: str) -> bool:
    """`*` matches any run of characters (case-sensitive); no other metacharacters."""
    pieces = pattern.split("*")
    if len(pieces) == 1:
        return pattern == name
    head, *middle, tail = pieces
    if not name.startswith(head) or len(name) < len(head) + len(tail):
        return False
    rest = name[len(head) : len(name) - len(tail)] if tail else name[len(head) :]
    if tail and not name.endswith(tail):
        return False
    for piece in middle:
        found = rest.find(piece)
        if found < 0:
            return False
        rest = rest[found + len(piece) :]
    return True


def _specificity(pattern: str) -> tuple[int, int, str]:
    """The longest literal text first, then the fewest `*`, then alphabetical: the winner never
    depends on dict order."""
    literal = len(pattern) - pattern.count("*")
    return (-literal, pattern.count("*"), pattern)


def wildcard_target(name: str, mapping: Mapping[str, str]) -> str | None:
    patterns = sorted((p for p in mapping if "*" in p and glob_matches(p, name)), key=_specificity)
    return mapping[patterns[0]] if patterns else None


def resolve(
    name: str,
    custom: Mapping[str, str],
    offered: Collection[str],
    forwarding: Mapping[str, str] | None = None,
    *,
    upstreams: Mapping[str, Collection[str]] | None = None,
    strict: bool = False,
) -> Route:
    """Route `name`; `offered` is what the accounts offer (empty when not known yet, which
    lets any name through unless `strict`); `upstreams` maps each upstream to its globs;
    `forwarding` is the upstream's deprecations (`deprecatedModelIds`), followed last. An
    unknown name is an `UnknownModel` naming close matches."""
    upstreams = upstreams or {}
    if name in custom:
        return _target(Route(name, custom[name], "custom"), upstreams)
    if (direct := _upstream_route(name, upstreams)) is not None:
        return direct
    variant = variants.split(name)
    if variant.base != name:
        route = resolve(
            variant.base, custom, offered, forwarding, upstreams=upstreams, strict=strict
        )
        return replace(route, requested=name, web_search=variant.web_search, image=variant.image)
    base, thinking = split_level(name)
    hit = _lookup(base, custom, offered)
    if hit is None and base.endswith(THINKING):
        hit = _lookup(base.removesuffix(THINKING), custom, offered, thinking=True)
    if hit is None:
        if offered or strict:
            known = [*offered, *custom, *BUILTIN, *_plain(upstreams)]
            raise UnknownModel(_unknown_message(name, known, [*offered, *_plain(upstreams)]))
        hit = (base, "offered")
    upstream, rule = hit
    upstream = (forwarding or {}).get(upstream, upstream)
    # `-thinking` turns thinking on when the upstream id does not carry it
    if thinking is None and base.endswith(THINKING) and not upstream.endswith(THINKING):
        thinking = Reasoning()
    return _target(Route(name, upstream, rule, thinking, level_suffix=base != name), upstreams)


def _upstream_route(name: str, upstreams: Mapping[str, Collection[str]]) -> Route | None:
    """`upstream/model`, or a name an upstream's `models` globs claim."""
    prefix, sep, model = name.partition("/")
    if sep and model and prefix in upstreams:
        return Route(name, model, "upstream", provider=prefix)
    for upstream, globs in upstreams.items():
        if any(glob_matches(glob, name) for glob in globs):
            return Route(name, name, "upstream", provider=upstream)
    return None


def _target(route: Route, upstreams: Mapping[str, Collection[str]]) -> Route:
    """A mapping target naming an upstream (`openrouter/openai/gpt-4o`) routes there."""
    prefix, sep, model = route.upstream.partition("/")
    if sep and model and prefix in upstreams and route.rule in ("custom", "wildcard"):
        return Route(route.requested, model, route.rule, route.thinking, route.level_suffix,
                     provider=prefix)
    return route


def _plain(upstreams: Mapping[str, Collection[str]]) -> list[str]:
    return [glob for globs in upstreams.values() for glob in globs if "*" not in glob]


def _lookup(
    name: str, custom: Mapping[str, str], offered: Collection[str], *, thinking: bool = False
) -> tuple[str, str] | None:
    if name in custom:
        return custom[name], "custom"
    if (target := wildcard_target(name, custom)) is not None:
        return target, "wildcard"
    if name in BUILTIN:
        return BUILTIN[name], "builtin"
    if name in offered:
        return name, "offered"
    if (target := family_target(name, offered, thinking=thinking)) is not None:
        return target, "family"
    return None


_LEVEL = re.compile(r"^(?P<base>.+)\((?P<level>[A-Za-z]+|\d+)\)$")
_EFFORTS: dict[str, Effort | None] = {
    "none": "none",
    "minimal": "minimal",
    "low": "low",
    "medium": "medium",
    "high": "high",
    "xhigh": "high",
    "max": "high",
    "auto": None,
}


def split_level(name: str) -> tuple[str, Reasoning | None]:
    """`gemini-3-flash(high)` -> ("gemini-3-flash", effort high); `x(8192)` -> budget 8192
    (CLIProxyAPI's convention)."""
    match = _LEVEL.match(name)
    if match is None:
        return name, None
    level = match["level"].lower()
    if level.isdigit():
        return match["base"], Reasoning(budget=int(level))
    if level not in _EFFORTS:
        return name, None
    effort = _EFFORTS[level]
    return match["base"], Reasoning(effort=effort)


_GPT = re.compile(r"^(?:gpt-|chatgpt-|o[1-4](?:$|-))")
_FAST_DEFAULT = _GEMINI_DEFAULT


def family_target(name: str, offered: Collection[str], *, thinking: bool = False) -> str | None:
    """The family rule for names the table does not know yet (Claude Code's next default...)."""
    lowered = name.lower()
    thinking = thinking or lowered.endswith(THINKING)
    if "opus" in lowered:
        return _best(offered, "opus", prefer_thinking=True) or _OPUS
    if "sonnet" in lowered:
        return _best(offered, "sonnet", prefer_thinking=thinking) or _SONNET
    if "haiku" in lowered:
        return _fast(offered)
    if _GPT.match(lowered):
        return _GEMINI_DEFAULT
    if _is_gemini_id(lowered):
        return _gemini(lowered, offered)
    return None


_GEMINI = re.compile(r"^gemini-\d+(?:\.\d+)?((?:-[a-z0-9]+)+)$")
_GEMINI_TIERS = frozenset({"flash", "pro", "lite", "image"})


def _is_gemini_id(name: str) -> bool:
    """A well-formed Gemini id with a tier word (`gemini-3.8-flash`), not `gemini-3-flsh`."""
    match = _GEMINI.match(name)
    return match is not None and not _GEMINI_TIERS.isdisjoint(match[1].split("-"))


def _gemini(name: str, offered: Collection[str]) -> str | None:
    """Gemini names the accounts do not offer (Gemini CLI's `gemini-3.8-flash`, ...): the
    closest offered model of the same tier: image, pro, lite, else a fast flash."""
    for tier in ("image", "pro", "lite"):
        if tier in name:
            same = [
                n
                for n in offered
                if n.startswith("gemini") and tier in n and (tier == "image" or "image" not in n)
            ]
            if same:
                return max(same, key=lambda n: (_version(n), n))
            if tier == "image":
                return None
    return _fast(offered)


def _best(offered: Collection[str], family: str, *, prefer_thinking: bool) -> str | None:
    """The newest offered Claude model of `family`, its thinking variant first if preferred."""
    names = [n for n in offered if n.startswith("claude") and family in n]
    if not names:
        return None
    return max(names, key=lambda n: (_version(n), n.endswith(THINKING) == prefer_thinking, n))


def _version(name: str) -> tuple[int, ...]:
    """The version numbers in a model id, without dates (`claude-opus-4-6-20260201` -> (4, 6))."""
    return tuple(int(n) for n in re.findall(r"\d+", name) if len(n) < 6)


def _fast(offered: Collection[str]) -> str:
    """A fast model: the Gemini default, else another offered flash, else the best sonnet."""
    if not offered or _FAST_DEFAULT in offered:
        return _FAST_DEFAULT
    flashes = sorted(n for n in offered if "flash" in n and "image" not in n and "lite" not in n)
    if flashes:
        return max(flashes, key=_version)
    return _best(offered, "sonnet", prefer_thinking=False) or _FAST_DEFAULT


MAX_LISTED = 30  # model names an unknown-model error lists


def _unknown_message(name: str, known: list[str], available: list[str]) -> str:
    close = difflib.get_close_matches(name, sorted(set(known)), n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    names = sorted(set(available))
    listed = ", ".join(names[:MAX_LISTED]) + (", ..." if len(names) > MAX_LISTED else "")
    served = f" Available models: {listed}." if names else ""
    return f"model '{name}' is not offered by any account and has no mapping{hint}{served}"
