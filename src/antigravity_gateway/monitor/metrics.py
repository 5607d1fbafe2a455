"""Prometheus metrics (README "See what it does") in one registry per app, no global state.

Request metrics are counted from finished records on the event loop (a few dict updates);
gauges that describe the present (accounts by state, active streams, monitor health) are read
at scrape time through callables. `agm_monitor_*` report the monitor itself: records dropped
(queue full or database off) and whether monitor.db is being written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from .record import Record

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
DURATION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)
TTFB_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
ACCOUNT_STATES = ("usable", "cooling", "disabled")


@dataclass(frozen=True, slots=True, kw_only=True)
class Readings:
    """Where the gauges of the present are read at scrape time."""

    accounts: Callable[[], Mapping[str, int]]  # state -> count
    streams: Callable[[], int]
    monitor_up: Callable[[], bool]
    dropped: Callable[[], int]


class _Present(Collector):
    """Gauges computed when scraped."""

    def __init__(self, read: Readings) -> None:
        self._read = read

    def collect(self) -> Iterable[Metric]:
        read = self._read
        by_state = read.accounts()
        accounts = GaugeMetricFamily("agm_accounts", "Upstream accounts by state",
                                     labels=["state"])
        for state in ACCOUNT_STATES:
            accounts.add_metric([state], by_state.get(state, 0))
        yield accounts
        yield GaugeMetricFamily("agm_streams_active", "Streaming answers being relayed now",
                                value=read.streams())
        yield GaugeMetricFamily("agm_monitor_up", "1 while monitor.db is written, 0 when off",
                                value=int(read.monitor_up()))
        yield CounterMetricFamily("agm_monitor_dropped_records",
                                  "Request records the monitor could not store",
                                  value=read.dropped())


class Metrics:
    def __init__(self, readings: Readings) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        reg = self.registry
        self.requests = Counter("agm_requests", "Proxied requests",
                                ["protocol", "model", "status"], registry=reg)
        self.duration = Histogram("agm_request_duration_seconds", "Request duration",
                                  ["protocol"], buckets=DURATION_BUCKETS, registry=reg)
        self.ttfb = Histogram("agm_time_to_first_byte_seconds", "Time to the first answer byte",
                              buckets=TTFB_BUCKETS, registry=reg)
        self.attempts = Counter("agm_upstream_attempts", "Upstream attempts by outcome",
                                ["outcome"], registry=reg)
        self.tokens = Counter("agm_tokens", "Tokens by direction", ["direction", "model"],
                              registry=reg)
        self._children: dict[tuple[Any, ...], Any] = {}
        reg.register(_Present(readings))
        ProcessCollector(registry=reg)

    def observe(self, record: Record) -> None:
        """Count one finished request."""
        model = record.usage_model
        self._child(self.requests, record.protocol, model, str(record.status)).inc()
        self._child(self.duration, record.protocol).observe(record.duration_ms / 1000)
        if record.ttfb_ms is not None:
            self.ttfb.observe(record.ttfb_ms / 1000)
        if record.attempts:
            if record.attempts > 1:
                self._child(self.attempts, "retried").inc(record.attempts - 1)
            self._child(self.attempts, "failed" if record.failed else "success").inc()
        for direction, count in (("input", record.input_tokens),
                                 ("output", record.output_tokens),
                                 ("cached", record.cached_tokens)):
            if count:
                self._child(self.tokens, direction, model).inc(count)

    def _child(self, metric: Any, *labels: str) -> Any:
        """`metric.labels(*labels)`, cached (prometheus-client's lookup takes a lock)."""
        key = (id(metric), *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    def render(self) -> bytes:
        return generate_latest(self.registry)
