"""generateContent / streamGenerateContent / countTokens handlers of the simulator.

Order of checks for generation: envelope shape -> model -> account gates -> semantic validation
-> thought signatures -> quota -> scripted answer (or the default one) -> render. Runs under the
state lock and returns an `Outcome`; the server writes it. Grounding: see grounding.py. No credits.
"""

from __future__ import annotations

from typing import Any

from tests.fakes.calls import Call
from tests.fakes.catalogue import ModelSpec
from tests.fakes.defaults import count_tokens, default_content
from tests.fakes.envelope import normalize, validate_generate
from tests.fakes.errors import (
    Disconnect,
    Fault,
    FaultError,
    invalid_argument,
    not_found,
    permission_denied,
    quota_exhausted,
    service_disabled,
    validation_required,
)
from tests.fakes.render import RenderContext, Renderer
from tests.fakes.scripts import Reply
from tests.fakes.wire import (
    JSON_TYPE,
    SSE_TYPE,
    Outcome,
    answer_outcome,
    encode_json,
    google_headers,
    sse_frames,
)


def generate(call: Call) -> Outcome:
    envelope = normalize(call.body, "Envelope", "")
    spec = _model(call, envelope.get("model"))
    request = _inner_request(envelope)
    check_account(call, envelope.get("project"))
    validate_generate(request, spec)
    call.fake.signatures.check(request["contents"], spec, call.account.email)
    quota = call.account.quota_for(spec.id, call.now)
    if quota.exhausted():
        raise FaultError(quota_exhausted(spec.id, max(0.0, quota.reset_at - call.now), call.now))
    answer = call.fake.scripts.pop(call.account.email, call.host, spec.id, call.method)
    if isinstance(answer, (Fault, Disconnect)):
        return answer_outcome(answer, _content_type(call), call.trace_id)
    quota.consume()
    return _render(call, answer or Reply(), request, spec)


def count(call: Call) -> Outcome:
    """countTokens: gemini-cli's `{"request":{"model":"models/x",...}}` or CPA's model-less one."""
    request = _inner_request(normalize(call.body, "CountEnvelope", ""))
    if request.get("model"):
        _model(call, str(request["model"]).removeprefix("models/"))
    return _json(call, {"totalTokens": count_tokens(request)})


def _inner_request(envelope: dict[str, Any]) -> dict[str, Any]:
    request = envelope.get("request")
    if not isinstance(request, dict):
        raise FaultError(invalid_argument("Request contains an invalid argument.", "request"))
    return request


def _model(call: Call, model: Any) -> ModelSpec:
    if not model:
        raise FaultError(invalid_argument("Request contains an invalid argument.", "model"))
    spec = call.fake.models.get(str(model))
    if spec is None:
        raise FaultError(not_found())
    return spec


def check_account(call: Call, project: Any) -> None:
    """Account-level gates shared by the generation methods."""
    account = call.account
    if account.disabled_service:
        raise FaultError(service_disabled())
    if account.validation_required:
        raise FaultError(validation_required())
    if not account.onboarded:
        raise FaultError(permission_denied())
    check_project(call, project)


def check_project(call: Call, project: Any) -> None:
    """A project other than the account's own is refused (unless `check_project=False`)."""
    if project and call.fake.options.check_project and project != call.account.project:
        message = (
            f"Permission 'cloudaicompanion.companions.generateChat' denied on resource "
            f"'//cloudresourcemanager.googleapis.com/projects/{project}' (or it may not exist)."
        )
        raise FaultError(permission_denied(message))


def _content_type(call: Call) -> str:
    return SSE_TYPE if call.method == "streamGenerateContent" else JSON_TYPE


def _json(call: Call, data: Any) -> Outcome:
    return Outcome(200, encode_json(data), google_headers(JSON_TYPE, call.trace_id))


def _render(call: Call, reply: Reply, request: dict[str, Any], spec: ModelSpec) -> Outcome:
    fake, options = call.fake, call.fake.options
    email, trace_id = call.account.email, call.trace_id
    ctx = RenderContext(
        spec,
        email,
        fake.ids,
        fake.signatures,
        trace_id,
        options.text_chunks,
        options.gemini_call_ids,
    )
    content = reply.content if reply.content or reply.empty else default_content(request, spec)
    renderer = Renderer(reply, request, ctx, content)
    outcome = Outcome(
        headers=google_headers(JSON_TYPE, trace_id),
        chunk_delay=reply.delay.between_chunks or options.chunk_delay,
        initial_delay=reply.delay.before_headers or options.chunk_delay,
        break_after=reply.broken.after_chunks if reply.broken else None,
    )
    if call.method == "generateContent":
        outcome.body = encode_json(renderer.unary_body())
        outcome.break_after = 0 if reply.broken else None
    elif "sse" in (call.query.get("alt"), call.query.get("$alt")):
        outcome.events = sse_frames(renderer.stream_events(), reply.crlf)
        outcome.headers = google_headers(SSE_TYPE, trace_id)
    else:  # without alt=sse the stream is one JSON array of envelopes
        events = [encode_json(event) for event in renderer.stream_events()]
        outcome.body = b"[" + b",\r\n".join(events) + b"]"
    return outcome
