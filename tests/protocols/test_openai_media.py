"""OpenAI Images and Audio codecs: fields -> hub requests, answers -> OpenAI's JSON."""

from __future__ import annotations

import base64
import contextlib
import io
import wave

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from antigravity_gateway.core.messages import ImageOptions, Media, Text, Usage
from antigravity_gateway.errors import InvalidRequest
from antigravity_gateway.protocols.openai_media import audio, images
from antigravity_gateway.protocols.openai_media.form import Form, Upload

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 8
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 8
WEBP = b"RIFF\x00\x00\x00\x00WEBPVP8 "


@pytest.mark.parametrize(
    ("size", "ratio"),
    [("1024x1024", "1:1"), ("1792x1024", "16:9"), ("1024x1792", "9:16"), ("1280x720", "16:9"),
     ("4:3", "4:3"), ("1000x123", "1:1"), ("auto", ""), ("", "")],
)  # fmt: skip
def test_sizes(size: str, ratio: str) -> None:
    assert images.aspect_ratio_of(size) == ratio


@pytest.mark.parametrize("size", ["huge", "0x100", "7:3", "12x", "-1x5"])
def test_no_sizes(size: str) -> None:
    assert images.aspect_ratio_of(size) is None


def test_generation_request() -> None:
    job = images.decode_generation(
        {"prompt": "a cat", "n": 3, "size": "16:9", "quality": "hd", "style": "natural",
         "response_format": "url", "model": "dall-e-3"}
    )  # fmt: skip
    assert job.model == images.DEFAULT_MODEL and job.n == 3 and job.response_format == "url"
    assert job.options == ImageOptions(aspect_ratio="16:9", size="4K")
    assert job.prompt == "a cat" + images.STYLES["natural"]
    req = job.chat_request()
    assert req.image == job.options and req.messages[0].parts == (Text(text=job.prompt),)
    direct = images.decode_generation({"prompt": "x", "quality": "hd", "image_size": "2K"})
    assert direct.options.size == "2K"  # image_size wins over quality


def test_edit_request_orders_image_mask_then_references() -> None:
    form = Form(
        fields={"prompt": "hat", "aspect_ratio": "3:4", "size": "1024x1024", "n": "2"},
        files=(
            Upload(field="image1", filename="ref.jpg", content_type="", data=JPEG),
            Upload(field="mask", filename="m.png", content_type="", data=PNG),
            Upload(field="image", filename="a.webp", content_type="", data=WEBP),
        ),
    )
    job = images.decode_edit(form)
    assert [m.mime for m in job.images] == ["image/webp", "image/png", "image/jpeg"]
    assert job.mask and job.n == 2 and job.options.aspect_ratio == "3:4"
    parts = job.chat_request().messages[0].parts
    assert parts[-1] == Text(text=images.MASK_HINT)


def test_encode_images() -> None:
    pics = [Media(mime="image/png", data="QUJD")]
    assert images.encode_images(pics, "b64_json", created=5) == {
        "created": 5, "data": [{"b64_json": "QUJD"}]}  # fmt: skip
    url = images.encode_images(pics, "url", created=5, usage=Usage(input_tokens=3))
    assert url["data"] == [{"url": "data:image/png;base64,QUJD"}]
    assert url["usage"]["total_tokens"] == 3


def wav(seconds: float) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(1)
        out.setframerate(1000)
        out.writeframes(b"\x80" * int(seconds * 1000))
    return buffer.getvalue()


def audio_form(name: str, data: bytes, **fields: str) -> Form:
    return Form(fields=fields, files=(Upload(field="file", filename=name, content_type="",
                                             data=data),))  # fmt: skip


@pytest.mark.parametrize(
    ("name", "mime"),
    [("a.mp3", "audio/mp3"), ("b.WAV", "audio/wav"), ("c.m4a", "audio/aac"),
     ("d.ogg", "audio/ogg"), ("e.flac", "audio/flac"), ("f.aif", "audio/aiff"),
     ("g.webm", "audio/webm")],
)  # fmt: skip
def test_audio_mime_from_extension(name: str, mime: str) -> None:
    job = audio.decode_transcription(audio_form(name, b"data", model="whisper-1"))
    assert job.audio.mime == mime and job.model == audio.DEFAULT_MODEL
    assert base64.b64decode(job.audio.data) == b"data"


def test_audio_bad_input_names_the_field() -> None:
    for form, field in [
        (Form(), "file"),
        (audio_form("a.txt", b"x"), "file"),
        (audio_form("noext", b"x"), "file"),
        (audio_form("a.wav", b""), "file"),
        (audio_form("a.wav", b"x", response_format="srt"), "response_format"),
    ]:
        with pytest.raises(InvalidRequest) as err:
            audio.decode_transcription(form)
        assert err.value.path == field


def test_transcription_formats() -> None:
    job = audio.decode_transcription(
        audio_form("a.wav", wav(2.0), response_format="verbose_json", language="de", prompt="p")
    )
    assert job.duration == pytest.approx(2.0)
    prompt = job.chat_request().messages[0].parts[0]
    assert isinstance(prompt, Text) and "'de'" in prompt.text and "p" in prompt.text
    _, body = audio.encode_transcription(" Hallo Welt. ", job)
    assert body["text"] == "Hallo Welt." and body["language"] == "de"
    assert [(s["start"], s["end"]) for s in body["segments"]] == [(0.0, 2.0)]
    timed = audio.encode_transcription("[00:00] Hallo\n[00:01.5] Welt", job)[1]
    assert [(s["start"], s["end"], s["text"]) for s in timed["segments"]] == [
        (0.0, 1.5, "Hallo"), (1.5, 2.0, "Welt")]  # fmt: skip
    assert timed["text"] == "Hallo Welt"
    text_job = audio.decode_transcription(audio_form("a.mp3", b"x", response_format="text"))
    assert audio.encode_transcription("hi\n", text_job) == ("text/plain", "hi")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),  # fmt: skip
    max_leaves=8,
)
KEYS = ["prompt", "model", "n", "size", "quality", "image_size", "style", "response_format"]


@given(st.dictionaries(st.sampled_from(KEYS), json_values) | json_values)
@settings(max_examples=300, deadline=None)
def test_generation_decoder_raises_only_invalid_request(body: object) -> None:
    with contextlib.suppress(InvalidRequest):
        images.decode_generation(body)


uploads = st.builds(
    Upload,
    field=st.sampled_from(["image", "image[]", "mask", "image1", "file", "x"]),
    filename=st.text(max_size=12),
    content_type=st.just(""),
    data=st.binary(max_size=16) | st.sampled_from([PNG, JPEG, WEBP]),
)
forms = st.builds(
    Form,
    fields=st.dictionaries(
        st.sampled_from([*KEYS, "aspect_ratio", "language"]), st.text(max_size=10)
    ),  # fmt: skip
    files=st.lists(uploads, max_size=3).map(tuple),
)


@given(forms)
@settings(max_examples=300, deadline=None)
def test_form_decoders_raise_only_invalid_request(form: Form) -> None:
    with contextlib.suppress(InvalidRequest):
        images.decode_edit(form)
    with contextlib.suppress(InvalidRequest):
        audio.decode_transcription(form)
