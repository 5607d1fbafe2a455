"""The request metrics: plain counters rendered by prometheus-client in the standard format."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from antigravity_gateway.monitor.metrics import Metrics, Readings
from antigravity_gateway.monitor.record import Record


def _metrics() -> Metrics:
    return Metrics(Readings(accounts=lambda: {"usable": 2}, streams=lambda: 1,
                            monitor_up=lambda: True, dropped=lambda: 0))


def _samples(metrics: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(metrics.render().decode())
            for s in family.samples}


def test_requests_tokens_and_attempts_are_counted_per_label_set() -> None:
    metrics = _metrics()
    ok = Record(timestamp_ms=0, method="POST", path="/v1/messages", protocol="anthropic",
                model="claude-sonnet-4-6", mapped_model="gemini-3-flash", status=200,
                attempts=3, input_tokens=10, output_tokens=4, duration_ms=100.0)
    failed = Record(timestamp_ms=0, method="POST", path="/v1/messages", protocol="anthropic",
                    model="claude-sonnet-4-6", status=503, attempts=1, duration_ms=1.0)
    for record in (ok, ok, failed):
        metrics.observe(record)
    samples = _samples(metrics)
    requests = "agm_requests_total"
    assert samples[(requests, (("model", "gemini-3-flash"), ("protocol", "anthropic"),
                               ("status", "200")))] == 2
    assert samples[(requests, (("model", "claude-sonnet-4-6"), ("protocol", "anthropic"),
                               ("status", "503")))] == 1
    tokens = ("agm_tokens_total", (("direction", "input"), ("model", "gemini-3-flash")))
    assert samples[tokens] == 20
    assert samples[("agm_upstream_attempts_total", (("outcome", "retried"),))] == 4
    assert samples[("agm_upstream_attempts_total", (("outcome", "success"),))] == 2
    assert samples[("agm_upstream_attempts_total", (("outcome", "failed"),))] == 1
    assert samples[("agm_accounts", (("state", "usable"),))] == 2


def test_histogram_buckets_are_cumulative_with_the_bound_itself_inside() -> None:
    metrics = _metrics()
    for ms in (50.0, 50.0001, 700_000.0):  # on the 0.05 s bound, just above it, above all
        metrics.observe(Record(timestamp_ms=0, method="POST", path="/v1/chat/completions",
                               protocol="openai", status=200, duration_ms=ms, ttfb_ms=ms))
    samples = _samples(metrics)
    name = "agm_request_duration_seconds"
    assert samples[(name + "_bucket", (("le", "0.05"), ("protocol", "openai")))] == 1
    assert samples[(name + "_bucket", (("le", "0.1"), ("protocol", "openai")))] == 2
    assert samples[(name + "_bucket", (("le", "600.0"), ("protocol", "openai")))] == 2
    assert samples[(name + "_bucket", (("le", "+Inf"), ("protocol", "openai")))] == 3
    assert samples[(name + "_count", (("protocol", "openai"),))] == 3
    assert abs(samples[(name + "_sum", (("protocol", "openai"),))] - 700.1000001) < 1e-6
    assert samples[("agm_time_to_first_byte_seconds_bucket", (("le", "0.05"),))] == 1
