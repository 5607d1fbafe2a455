"""The real openai SDK's images and audio APIs against `agm serve`, the simulator as Google."""

from __future__ import annotations

import base64
import io
import wave
from typing import Any

import openai
import pytest
import requests
from google import genai
from google.genai import types

from tests.e2e.gateway import API_KEY, Gateway
from tests.fakes import text
from tests.fakes.defaults import PNG_1X1
from tests.fakes.grounding import TRANSCRIPT

IMAGE_MODEL = "gemini-3.1-flash-image"
PNG = base64.b64decode(PNG_1X1)


@pytest.fixture
def client(gateway: Gateway) -> openai.OpenAI:
    return openai.OpenAI(base_url=gateway.url + "/v1", api_key=API_KEY, max_retries=0)


def image_requests(fake: Any) -> list[dict[str, Any]]:
    return [c.body for c in fake.calls("streamGenerateContent")]


def wav_file(seconds: float = 0.5, rate: int = 8000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"\x00\x01" * int(seconds * rate))
    return buffer.getvalue()


def test_generate_b64_two_images_16x9(client: openai.OpenAI, fake: Any) -> None:
    done = client.images.generate(
        prompt="a lighthouse at dawn", n=2, size="1792x1024", response_format="b64_json"
    )
    assert done.data is not None and len(done.data) == 2
    for image in done.data:
        assert image.b64_json is not None and base64.b64decode(image.b64_json) == PNG
    bodies = image_requests(fake)
    assert len(bodies) == 2
    for body in bodies:
        assert body["model"] == IMAGE_MODEL and body["requestType"] == "image_gen"
        request = body["request"]
        assert request["generationConfig"]["imageConfig"] == {"aspectRatio": "16:9"}
        assert "systemInstruction" not in request and "tools" not in request
        assert request["contents"][0]["parts"][0]["text"].startswith("a lighthouse at dawn")


def test_generate_url_answers_a_data_url(client: openai.OpenAI, fake: Any) -> None:
    done = client.images.generate(
        model="gemini-3.1-flash-image-4k", prompt="a cat", size="16:9", response_format="url"
    )
    assert done.data is not None
    [image] = done.data
    assert image.url is not None and image.url.startswith("data:image/png;base64,")
    assert base64.b64decode(image.url.split(",", 1)[1]) == PNG
    [body] = image_requests(fake)
    config = body["request"]["generationConfig"]["imageConfig"]
    assert config == {"aspectRatio": "16:9", "imageSize": "4K"}  # size wins, the suffix adds 4K
    assert body["model"] == IMAGE_MODEL


def test_edit_with_image_and_mask(client: openai.OpenAI, fake: Any) -> None:
    done = client.images.edit(
        model="gemini-3.1-flash-image",
        image=("photo.png", PNG, "image/png"),
        mask=("mask.png", PNG, "image/png"),
        prompt="add a red hat",
        size="1024x1024",
    )
    assert done.data is not None and base64.b64decode(done.data[0].b64_json or "") == PNG
    [body] = image_requests(fake)
    parts = body["request"]["contents"][0]["parts"]
    assert parts[0]["text"] == "add a red hat"
    images = [p["inlineData"] for p in parts if "inlineData" in p]
    assert [i["mimeType"] for i in images] == ["image/png", "image/png"]
    assert all(base64.b64decode(i["data"]) == PNG for i in images)
    assert body["request"]["generationConfig"]["imageConfig"] == {"aspectRatio": "1:1"}


def test_chat_with_an_image_model_answers_markdown(client: openai.OpenAI, fake: Any) -> None:
    done = client.chat.completions.create(
        model="gemini-3.1-flash-image-9x16",
        messages=[{"role": "system", "content": "ignored"}, {"role": "user", "content": "a dog"}],
    )
    content = done.choices[0].message.content or ""
    assert f"![image](data:image/png;base64,{PNG_1X1})" in content
    [body] = image_requests(fake)
    assert body["requestType"] == "image_gen"
    assert body["request"]["generationConfig"]["imageConfig"] == {"aspectRatio": "9:16"}
    assert "systemInstruction" not in body["request"]


def test_responses_with_an_image_model_answers_an_image_item(
    client: openai.OpenAI, fake: Any
) -> None:
    done = client.responses.create(model=IMAGE_MODEL, input="a boat")
    items = [item for item in done.output if item.type == "image_generation_call"]
    assert len(items) == 1 and base64.b64decode(items[0].result or "") == PNG


@pytest.mark.parametrize("fmt", ["json", "text", "verbose_json"])
def test_transcription(client: openai.OpenAI, fake: Any, fmt: str) -> None:
    audio = wav_file()
    done: Any = client.audio.transcriptions.create(
        model="whisper-1",
        file=("speech.wav", audio, "audio/wav"),
        prompt="A pangram.",
        language="en",
        response_format=fmt,  # type: ignore[arg-type]
    )
    text = done if isinstance(done, str) else done.text
    assert text.strip() == TRANSCRIPT
    if fmt == "verbose_json":
        assert done.duration == pytest.approx(0.5)
        [segment] = done.segments
        assert segment.text == TRANSCRIPT and segment.end == pytest.approx(0.5)
    [body] = image_requests(fake)
    parts = body["request"]["contents"][0]["parts"]
    assert parts[1]["inlineData"]["mimeType"] == "audio/wav"
    assert base64.b64decode(parts[1]["inlineData"]["data"]) == audio
    assert "en" in parts[0]["text"] and "A pangram." in parts[0]["text"]


# ---- bad input: a 400/413 in OpenAI's shape naming the field, nothing sent upstream ----------


def post(gateway: Gateway, path: str, **kwargs: Any) -> requests.Response:
    headers = {"Authorization": f"Bearer {API_KEY}", **kwargs.pop("headers", {})}
    return requests.post(gateway.url + path, headers=headers, timeout=30, **kwargs)


GENERATIONS = "/v1/images/generations"
BAD_GENERATIONS = [
    ({"n": 1}, "prompt"),
    ({"prompt": ""}, "prompt"),
    ({"prompt": "x", "n": 11}, "n"),
    ({"prompt": "x", "n": 0}, "n"),
    ({"prompt": "x", "size": "huge"}, "size"),
    ({"prompt": "x", "quality": "ultra"}, "quality"),
    ({"prompt": "x", "response_format": "png"}, "response_format"),
    ({"prompt": "x", "style": "gothic"}, "style"),
    ({"prompt": "x", "model": "gemini-3-flash"}, "model"),
]


@pytest.mark.parametrize(("body", "field"), BAD_GENERATIONS)
def test_bad_generation_requests(gateway: Gateway, fake: Any, body: Any, field: str) -> None:
    answer = post(gateway, GENERATIONS, json=body)
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["param"] == field and error["type"] == "invalid_request_error"
    assert fake.calls("streamGenerateContent") == []


TXT = ("notes.txt", b"hello, not a picture", "text/plain")
BAD_EDITS = [
    ({"prompt": "x"}, {}, "image"),
    ({}, {"image": ("a.png", PNG, "image/png")}, "prompt"),
    ({"prompt": "x"}, {"image": TXT}, "image"),
    ({"prompt": "x", "n": "twelve"}, {"image": ("a.png", PNG, "image/png")}, "n"),
    ({"prompt": "x", "size": "0x0"}, {"image": ("a.png", PNG, "image/png")}, "size"),
]


@pytest.mark.parametrize(("data", "files", "field"), BAD_EDITS)
def test_bad_edit_requests(gateway: Gateway, fake: Any, data: Any, files: Any, field: str) -> None:
    answer = post(gateway, "/v1/images/edits", data=data, files=files or {"x": ("", b"")})
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["param"] == field
    assert fake.calls("streamGenerateContent") == []


BROKEN = (
    b'--XyZ\r\nContent-Disposition: form-data; name="prompt"\r\n\r\nhat\r\n'
    b'--XyZ\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n\r\n'
)


@pytest.mark.parametrize("path", ["/v1/images/edits", "/v1/audio/transcriptions"])
def test_broken_or_missing_multipart(gateway: Gateway, fake: Any, path: str) -> None:
    broken = post(
        gateway, path, data=BROKEN, headers={"Content-Type": "multipart/form-data; boundary=XyZ"}
    )
    assert broken.status_code == 400, broken.text
    assert "multipart" in broken.json()["error"]["message"]
    not_multipart = post(gateway, path, json={"prompt": "x"})
    assert not_multipart.status_code == 400
    assert "multipart/form-data" in not_multipart.json()["error"]["message"]
    assert fake.calls("streamGenerateContent") == []


def test_bad_transcriptions(gateway: Gateway, fake: Any) -> None:
    path = "/v1/audio/transcriptions"
    cases = [
        ({"model": "whisper-1"}, {}, 400, "file"),
        ({"model": "whisper-1"}, {"file": ("song.xyz", b"abc", "audio/x")}, 400, "file"),
        ({"response_format": "srt"}, {"file": ("a.wav", wav_file(), "audio/wav")}, 400,
         "response_format"),
        ({}, {"file": ("big.mp3", b"\x00" * (15 * 1024 * 1024 + 1), "audio/mpeg")}, 413, None),
    ]  # fmt: skip
    for data, files, status, field in cases:
        answer = post(gateway, path, data=data, files=files or {"x": ("", b"")})
        assert answer.status_code == status, answer.text
        error = answer.json()["error"]
        assert error["param"] == field
        if status == 413:
            assert "file" in error["message"]
    assert fake.calls("streamGenerateContent") == []
    healthy = requests.get(
        gateway.url + "/healthz", headers={"Authorization": f"Bearer {API_KEY}"}, timeout=10
    )
    assert healthy.status_code == 200


def test_genai_image_model_passes_image_config_through(gateway: Gateway, fake: Any) -> None:
    options = types.HttpOptions(base_url=gateway.url, api_version="v1beta")
    client = genai.Client(api_key=API_KEY, http_options=options)
    config = types.GenerateContentConfig(
        response_modalities=["TEXT", "IMAGE"],
        image_config=types.ImageConfig(aspect_ratio="3:4"),
    )
    done = client.models.generate_content(model=IMAGE_MODEL, contents="a fox", config=config)
    assert done.candidates and done.candidates[0].content and done.candidates[0].content.parts
    blobs = [p.inline_data for p in done.candidates[0].content.parts if p.inline_data]
    assert [b.data for b in blobs] == [PNG] and blobs[0].mime_type == "image/png"
    [body] = image_requests(fake)
    generation = body["request"]["generationConfig"]
    assert generation["imageConfig"] == {"aspectRatio": "3:4"}
    assert generation["responseModalities"] == ["TEXT", "IMAGE"]
    assert body["requestType"] == "image_gen"


def test_edit_with_several_images(client: openai.OpenAI, fake: Any) -> None:
    gif = b"GIF89a" + b"\x00" * 10
    done = client.images.edit(
        image=[("a.png", PNG, "image/png"), ("b.gif", gif, "image/gif")],
        prompt="combine them",
        response_format="b64_json",
    )
    assert done.data is not None and len(done.data) == 1
    [body] = image_requests(fake)
    parts = body["request"]["contents"][0]["parts"]
    assert [p["inlineData"]["mimeType"] for p in parts if "inlineData" in p] == [
        "image/png",
        "image/gif",
    ]
    assert body["model"] == IMAGE_MODEL


def test_an_answer_without_an_image_is_an_openai_error(client: openai.OpenAI, fake: Any) -> None:
    fake.script_for(text("I cannot draw that."), model=IMAGE_MODEL)
    with pytest.raises(openai.APIStatusError) as caught:
        client.images.generate(prompt="something refused")
    assert caught.value.status_code == 502
    assert "without an image: I cannot draw that." in caught.value.message
