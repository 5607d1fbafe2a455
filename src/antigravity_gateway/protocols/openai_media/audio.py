"""OpenAI `/v1/audio/transcriptions` <-> a hub request. Pure.

The model is asked for a plain transcript, `language` as a hint and `prompt` as context
(docs/upstream.md §11.2). `verbose_json` has one segment per `[mm:ss]`-stamped line when the
model gives timing, else one for the whole file; srt / vtt are a 400.
"""

from __future__ import annotations

import base64
import io
import re
import wave
from dataclasses import dataclass
from typing import Any, Literal

from antigravity_gateway.core.messages import ChatRequest, Media, Message, Reasoning, Text
from antigravity_gateway.errors import InvalidRequest

from .form import Form

DEFAULT_MODEL = "gemini-3-flash"  # also what OpenAI's `whisper-*` names mean
MAX_BYTES = 15 * 1024 * 1024
# The upload's extension gives its mime type; any other extension is a 400 naming `file`.
MIME_BY_EXTENSION = {
    "mp3": "audio/mp3", "mpga": "audio/mp3", "mpeg": "audio/mp3", "wav": "audio/wav",
    "m4a": "audio/aac", "ogg": "audio/ogg", "oga": "audio/ogg", "flac": "audio/flac",
    "aiff": "audio/aiff", "aif": "audio/aiff", "webm": "audio/webm",
}  # fmt: skip
INSTRUCTION = "Generate a transcript of the speech. Answer with the transcript only."
Format = Literal["json", "text", "verbose_json"]
_STAMP = re.compile(
    r"^\s*\[?(?P<start>\d{1,2}:\d{2}(?::\d{2})?(?:\.\d+)?)"
    r"(?:\s*(?:-|–|-->)\s*(?P<end>\d{1,2}:\d{2}(?::\d{2})?(?:\.\d+)?))?\]?\s*(?P<text>.+)$"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class AudioJob:
    """A transcription upload and its options, decoded from the form."""

    model: str
    audio: Media
    size: int  # bytes
    prompt: str = ""
    language: str = ""
    response_format: Format = "json"
    duration: float = 0.0  # seconds, when the container says (WAV)

    def chat_request(self) -> ChatRequest:
        words = [INSTRUCTION]
        if self.language:
            words.append(f"The speech is in the language with code '{self.language}'.")
        if self.prompt:
            words.append(f"Context (names, spelling, earlier text): {self.prompt}")
        parts = (Text(text=" ".join(words)), self.audio)
        return ChatRequest(
            model=self.model,
            messages=(Message(role="user", parts=parts),),
            reasoning=Reasoning(effort="none", include_thoughts=False),
        )


def decode_transcription(form: Form) -> AudioJob:
    upload = next((f for f in form.files if f.field == "file"), None)
    if upload is None:
        raise InvalidRequest("an audio file is required", path="file")
    extension = upload.filename.rsplit(".", 1)[-1].lower() if "." in upload.filename else ""
    mime = MIME_BY_EXTENSION.get(extension)
    if mime is None:
        known = ", ".join(sorted(MIME_BY_EXTENSION))
        raise InvalidRequest(
            f"unsupported file type {extension or upload.filename!r}; use one of {known}",
            path="file",
        )
    if not upload.data:
        raise InvalidRequest("the audio file is empty", path="file")
    model = form.text("model") or DEFAULT_MODEL
    return AudioJob(
        model=DEFAULT_MODEL if model.startswith("whisper") else model,
        audio=Media(mime=mime, data=base64.b64encode(upload.data).decode()),
        size=len(upload.data),
        prompt=(form.text("prompt") or "").strip(),
        language=(form.text("language") or "").strip(),
        response_format=_format(form.text("response_format")),
        duration=_wav_duration(upload.data) if mime == "audio/wav" else 0.0,
    )


def _format(value: str | None) -> Format:
    match value:
        case None | "" | "json":
            return "json"
        case "text" | "verbose_json":
            return value
    raise InvalidRequest('must be "json", "text" or "verbose_json"', path="response_format")


def _wav_duration(data: bytes) -> float:
    try:
        with wave.open(io.BytesIO(data)) as reader:
            frames, rate = int(reader.getnframes()), int(reader.getframerate())
            return frames / rate if rate else 0.0
    except (wave.Error, EOFError, ValueError):
        return 0.0


def encode_transcription(text: str, job: AudioJob) -> tuple[str, Any]:
    """(content type, body): JSON for json / verbose_json, the bare text for text."""
    text = text.strip()
    if job.response_format == "text":
        return "text/plain", text
    if job.response_format == "json":
        return "application/json", {"text": text}
    segments = _segments(text, job.duration)
    return "application/json", {
        "task": "transcribe",
        "language": job.language or "unknown",
        "duration": max(job.duration, segments[-1]["end"] if segments else 0.0),
        "text": " ".join(s["text"] for s in segments) if _stamped(text) else text,
        "segments": segments,
    }


def _stamped(text: str) -> bool:
    lines = [line for line in text.splitlines() if line.strip()]
    return bool(lines) and all(_STAMP.match(line) for line in lines)


def _segments(text: str, duration: float) -> list[dict[str, Any]]:
    if not _stamped(text):
        return [_segment(0, 0.0, duration, text)]
    found = [_STAMP.match(line) for line in text.splitlines() if line.strip()]
    starts = [_seconds(m["start"]) for m in found if m]
    out = []
    for i, match in enumerate(m for m in found if m):
        following = starts[i + 1] if i + 1 < len(starts) else max(duration, starts[i])
        end = _seconds(match["end"]) if match["end"] else following
        out.append(_segment(i, starts[i], end, match["text"].strip()))
    return out


def _seconds(stamp: str) -> float:
    total = 0.0
    for piece in stamp.split(":"):
        total = total * 60 + float(piece)
    return total


def _segment(index: int, start: float, end: float, text: str) -> dict[str, Any]:
    return {"id": index, "seek": 0, "start": start, "end": end, "text": text, "tokens": [],
            "temperature": 0.0, "avg_logprob": 0.0, "compression_ratio": 0.0,
            "no_speech_prob": 0.0}  # fmt: skip
