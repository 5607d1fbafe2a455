"""The one-line access log per proxied request, as text or as a JSON line (`--log-format json`).

One formatting function per format, both fed by the finished `Record`; no bodies, no keys.
"""

from __future__ import annotations

import msgspec

from .record import Record

LOGGER = "antigravity_gateway.access"


def format_access(record: Record, *, as_json: bool = False) -> str:
    if as_json:
        return msgspec.json.encode({
            "time": record.timestamp_ms / 1000, "method": record.method, "path": record.path,
            "status": record.status,
            "protocol": record.protocol, "model": record.model,
            "mapped_model": record.mapped_model, "account": record.account_email,
            "duration_ms": round(record.duration_ms, 1), "attempts": record.attempts,
            "input_tokens": record.input_tokens, "output_tokens": record.output_tokens,
            "cached_tokens": record.cached_tokens, "client_ip": record.client_ip,
            "error": record.error,
        }).decode()
    model = record.model or "-"
    if record.mapped_model and record.mapped_model != record.model:
        model += f" -> {record.mapped_model}"
    tokens = f"{record.input_tokens}/{record.output_tokens} tokens"
    return (f"{record.method} {record.path} {record.status} {model} "
            f"{record.account_email or '-'} {record.duration_ms:.0f}ms {tokens}")
