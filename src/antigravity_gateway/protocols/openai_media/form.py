"""A multipart form as plain values, so the codecs stay pure (server/multipart.py reads it)."""

from __future__ import annotations

from dataclasses import dataclass, field

from antigravity_gateway.errors import InvalidRequest


@dataclass(frozen=True, slots=True, kw_only=True)
class Upload:
    """One file field of a form."""

    field: str
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class Form:
    """A multipart form: its text fields by name and its file uploads."""

    fields: dict[str, str] = field(default_factory=dict)
    files: tuple[Upload, ...] = ()

    def text(self, name: str) -> str | None:
        return self.fields.get(name)

    def number(self, name: str) -> int | None:
        value = self.fields.get(name)
        if value is None or value.strip() == "":
            return None
        try:
            return int(value)
        except ValueError:
            raise InvalidRequest(f"must be an integer, got {value!r}", path=name) from None
