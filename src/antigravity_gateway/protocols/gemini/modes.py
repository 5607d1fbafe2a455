"""The two request modes besides plain chat: image generation and web-search grounding. Pure.

Image models lose tools, system instruction and thinking. Web search adds `{"googleSearch": {}}`,
except when functions are declared: v1internal rejects mixing them (docs/upstream.md §7.2), so
the functions win.
"""

from __future__ import annotations

from typing import Any, cast

from antigravity_gateway.core.messages import ChatRequest, ImageOptions

from . import wire

SEARCH_TOOL_NAMES = ("googleSearch", "google_search", "googleSearchRetrieval")


def is_image_model(model: str) -> bool:
    return "image" in model.lower()


def apply(body: wire.GenerateContentRequest, req: ChatRequest, model: str) -> None:
    """Shape `body` for an image model or a web-search request (in place)."""
    if is_image_model(model):
        # as Antigravity Tools does: users reported these breaking image requests (§11.1)
        body.pop("systemInstruction", None)
        body.pop("tools", None)
        body.pop("toolConfig", None)
        config = body.setdefault("generationConfig", {})
        config.pop("thinkingConfig", None)
        if image := image_config(req.image, cast(dict[str, Any], config).get("imageConfig")):
            cast(dict[str, Any], config)["imageConfig"] = image
        return
    if _has_functions(body):  # a client's own googleSearch beside functions: the functions win
        body["tools"] = [t for t in body["tools"] if not any(n in t for n in SEARCH_TOOL_NAMES)]
    elif req.web_search and not has_search(body):
        body["tools"] = [*body.get("tools", []), {"googleSearch": {}}]


def image_config(options: ImageOptions | None, given: Any) -> dict[str, Any]:
    """The client's own imageConfig (Gemini clients) completed by the hub's options."""
    config: dict[str, Any] = dict(given) if isinstance(given, dict) else {}
    if options is not None and options.aspect_ratio:
        config.setdefault("aspectRatio", options.aspect_ratio)
    if options is not None and options.size:
        config.setdefault("imageSize", options.size)
    return config


def has_search(body: wire.GenerateContentRequest) -> bool:
    return any(name in tool for tool in body.get("tools", []) for name in SEARCH_TOOL_NAMES)


def _has_functions(body: wire.GenerateContentRequest) -> bool:
    return any(tool.get("functionDeclarations") for tool in body.get("tools", []))


def request_type(body: dict[str, Any] | wire.GenerateContentRequest, model: str) -> str:
    """The envelope's `requestType`, from the finished body: `image_gen`, `web_search` or `agent`
    (§2.2)."""
    if is_image_model(model):
        return "image_gen"
    if has_search(cast(wire.GenerateContentRequest, body)):
        return "web_search"
    return "agent"
