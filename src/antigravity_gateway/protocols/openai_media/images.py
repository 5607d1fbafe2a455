"""OpenAI Images (`/v1/images/generations`, `/v1/images/edits`) <-> hub requests. Pure.

A request becomes an `ImageJob`. `size` (`WxH` or a ratio) -> aspectRatio, `quality` /
`image_size` -> imageSize (docs/upstream.md §11.1). The requested model is honoured; OpenAI's
own names (dall-e-*, gpt-image-*) mean the default image model.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from typing import Any, Literal

from antigravity_gateway.core.messages import (
    ChatRequest,
    ImageOptions,
    Media,
    Message,
    Part,
    Reasoning,
    Text,
    Usage,
)
from antigravity_gateway.errors import InvalidRequest
from antigravity_gateway.protocols import fields

from .form import Form, Upload

DEFAULT_MODEL = "gemini-3.1-flash-image"
MAX_IMAGES = 10
MAX_UPLOAD_BYTES = 20 * 1024 * 1024  # per image file of an edit
STYLES = {  # `style`: the reference's phrase, appended to the prompt
    "vivid": ", (vivid colors, dramatic lighting, rich details)",
    "natural": ", (natural lighting, realistic, photorealistic)",
}
MASK_HINT = (
    "The image after the first is a mask: change only the areas where the mask is transparent."
)
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
RATIOS = ("21:9", "16:9", "4:3", "3:4", "9:16", "3:2", "2:3", "5:4", "4:5", "1:1")
_QUALITY = {"4k": "4K", "hd": "4K", "high": "4K", "2k": "2K", "medium": "2K", "1k": "1K",
            "standard": "1K", "low": "", "auto": "", "": ""}  # fmt: skip
Format = Literal["b64_json", "url"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ImageJob:
    """`n` images to make from one prompt (and, for an edit, the input images)."""

    model: str
    prompt: str
    images: tuple[Media, ...] = ()
    mask: bool = False
    n: int = 1
    options: ImageOptions = ImageOptions()
    response_format: Format = "b64_json"

    def chat_request(self) -> ChatRequest:
        """One upstream request for one image (the gateway makes `n` of them)."""
        parts: list[Part] = [Text(text=self.prompt), *self.images]
        if self.mask:
            parts.append(Text(text=MASK_HINT))
        return ChatRequest(
            model=self.model,
            messages=(Message(role="user", parts=tuple(parts)),),
            image=self.options,
            reasoning=Reasoning(effort="none", include_thoughts=False),
        )


def decode_generation(body: Any) -> ImageJob:
    if not isinstance(body, dict):
        raise InvalidRequest(f"request body must be a JSON object, got {fields.kind(body)}")
    prompt = fields.string(body.get("prompt"), "prompt", nonempty=True)
    quality = fields.opt_string(body, "quality")
    direct = fields.opt_string(body, "image_size") or fields.opt_string(body, "imageSize")
    return ImageJob(
        model=_model(fields.opt_string(body, "model")),
        prompt=prompt + _style(fields.opt_string(body, "style")),
        n=_count(fields.opt_int(body, "n")),
        options=_options(fields.opt_string(body, "size"), direct, quality),
        response_format=_format(fields.opt_string(body, "response_format")),
    )


def decode_edit(form: Form) -> ImageJob:
    prompt = (form.text("prompt") or "").strip()
    if not prompt:
        raise InvalidRequest("is required", path="prompt")
    main = [f for f in form.files if f.field in ("image", "image[]")]
    if not main:
        raise InvalidRequest("an image file is required", path="image")
    masks = [f for f in form.files if f.field == "mask"]
    extra = [f for f in form.files if f.field.startswith("image") and f not in main]
    # image, mask, then the extra references: MASK_HINT counts on the mask coming second
    images = tuple(_image(f) for f in (main[:1] + masks[:1] + main[1:] + extra))
    size = form.text("aspect_ratio") or form.text("size")
    direct = form.text("image_size") or form.text("imageSize")
    return ImageJob(
        model=_model(form.text("model")),
        prompt=prompt + _style(form.text("style")),
        images=images,
        mask=bool(masks),
        n=_count(form.number("n")),
        options=_options(size, direct, form.text("quality")),
        response_format=_format(form.text("response_format")),
    )


def _model(name: str | None) -> str:
    if not name or name.startswith(("dall-e", "gpt-image")):
        return DEFAULT_MODEL
    if "image" not in name.lower():
        raise InvalidRequest(f"'{name}' is not an image model (try {DEFAULT_MODEL})", path="model")
    return name


def _count(n: int | None) -> int:
    if n is None:
        return 1
    if not 1 <= n <= MAX_IMAGES:
        raise InvalidRequest(f"must be between 1 and {MAX_IMAGES}", path="n")
    return n


def _options(size: str | None, direct: str | None, quality: str | None) -> ImageOptions:
    ratio = aspect_ratio_of(size or "")
    if ratio is None:
        raise InvalidRequest(f"{size!r} is no size: use WIDTHxHEIGHT or a ratio", path="size")
    path = "image_size" if direct else "quality"
    image_size = image_size_of(direct or quality or "")
    if image_size is None:
        raise InvalidRequest(f"{direct or quality!r} is not one of 1K, 2K, 4K, hd", path=path)
    return ImageOptions(aspect_ratio=ratio, size=image_size)


def aspect_ratio_of(size: str) -> str | None:
    """`size` (`1280x720`, `16:9`, `auto`) as an aspect ratio; None when it is no size. A W x H
    size takes the listed ratio within 0.05 of it, else 1:1 (the reference's rule, §10.1)."""
    text = size.strip().lower()
    if text in ("", "auto"):
        return ""
    if text in RATIOS:
        return text
    match = re.fullmatch(r"(\d{1,5})\s*[x×*]\s*(\d{1,5})", text)
    if match is None or not int(match[1]) or not int(match[2]):
        return None
    wanted = int(match[1]) / int(match[2])
    for ratio in RATIOS:
        width, height = ratio.split(":")
        if abs(int(width) / int(height) - wanted) <= 0.05:
            return ratio
    return "1:1"


def image_size_of(quality: str) -> str | None:
    """`quality` or `image_size` as Gemini's imageSize ("" = the model's choice); None: unknown."""
    return _QUALITY.get(quality.strip().lower())


def _style(style: str | None) -> str:
    if style is None or style == "":
        return ""
    if style not in STYLES:
        raise InvalidRequest(f"must be one of {', '.join(STYLES)}", path="style")
    return STYLES[style]


def _format(value: str | None) -> Format:
    if value in (None, "", "b64_json"):
        return "b64_json"
    if value == "url":
        return "url"
    raise InvalidRequest('must be "b64_json" or "url"', path="response_format")


def _image(upload: Upload) -> Media:
    """An uploaded image, typed by its magic bytes; anything but PNG, JPEG, GIF or WebP is a 400."""
    head = upload.data[:16]
    mime = next((m for magic, m in _MAGIC if head.startswith(magic)), "")
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        mime = "image/webp"
    if not mime:
        name = upload.filename or upload.field
        raise InvalidRequest(f"{name} is not a PNG, JPEG, GIF or WebP image", path=upload.field)
    return Media(mime=mime, data=base64.b64encode(upload.data).decode())


def encode_images(
    images: list[Media], fmt: Format, *, created: int, usage: Usage | None = None
) -> dict[str, Any]:
    """OpenAI's `{"created", "data": [...]}`; `url` answers carry data URLs."""
    data = [
        {"url": f"data:{m.mime};base64,{m.data}"} if fmt == "url" else {"b64_json": m.data}
        for m in images
    ]
    answer: dict[str, Any] = {"created": created, "data": data}
    if usage is not None and usage.total_tokens:
        answer["usage"] = {
            "input_tokens": usage.input_tokens,
            "output_tokens": usage.output_tokens,
            "total_tokens": usage.total_tokens,
            "input_tokens_details": {"text_tokens": usage.input_tokens, "image_tokens": 0},
        }
    return answer
