"""Prometheus metrics (README "See what it does") in one registry per app, no global state.

Request metrics are counted from finished records on the event loop (a few dict updates) and
rendered by a collector when scraped; gauges of the present (accounts by state, active streams,
monitor health) are read at scrape time through callables. `agm_monitor_*` report the monitor
itself: records dropped (queue full or database off) and whether monitor.db is being written.
"""

from __future__ import annotations

import bisect
import itertools
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, ProcessCollector, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
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


class _Histogram:
    """Bucket counts, sum and count of one histogram series: a bisect and three additions."""

    __slots__ = ("bounds", "counts", "labels", "sum")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.labels = [*(repr(float(b)) for b in bounds), "+Inf"]  # "le" as Prometheus writes it
        self.counts = [0] * (len(bounds) + 1)  # the last one: above every bound (+Inf)
        self.sum = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(self.bounds, value)] += 1
        self.sum += value

    def buckets(self) -> list[tuple[str, float]]:
        """Cumulative counts per upper bound, as the exposition format wants them."""
        return list(zip(self.labels, itertools.accumulate(self.counts), strict=True))


class _Totals(Collector):
    """The request metrics, kept as plain numbers and rendered when scraped."""

    def __init__(self, metrics: Metrics) -> None:
        self._m = metrics

    def collect(self) -> Iterable[Metric]:
        m = self._m
        yield _counter("agm_requests", "Proxied requests", ["protocol", "model", "status"],
                       m.requests)
        duration = HistogramMetricFamily("agm_request_duration_seconds", "Request duration",
                                         labels=["protocol"])
        for protocol, series in sorted(m.duration.items()):
            duration.add_metric([protocol], series.buckets(), series.sum)
        yield duration
        ttfb = HistogramMetricFamily("agm_time_to_first_byte_seconds",
                                     "Time to the first answer byte")
        ttfb.add_metric([], m.ttfb.buckets(), m.ttfb.sum)
        yield ttfb
        yield _counter("agm_upstream_attempts", "Upstream attempts by outcome", ["outcome"],
                       m.attempts)
        yield _counter("agm_tokens", "Tokens by direction", ["direction", "model"], m.tokens)


def _counter(name: str, doc: str, labels: list[str],
             values: Counter[tuple[str, ...]]) -> CounterMetricFamily:
    family = CounterMetricFamily(name, doc, labels=labels)
    for key, value in sorted(values.items()):
        family.add_metric(list(key), value)
    return family


class Metrics:
    """The /metrics registry. Counting a request updates plain dicts (prometheus-client's
    per-series locks cost ~5 us a request); the registry reads them when scraped."""

    def __init__(self, readings: Readings) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests: Counter[tuple[str, ...]] = Counter()
        self.duration: dict[str, _Histogram] = {}
        self.ttfb = _Histogram(TTFB_BUCKETS)
        self.attempts: Counter[tuple[str, ...]] = Counter()
        self.tokens: Counter[tuple[str, ...]] = Counter()
        self.registry.register(_Totals(self))
        self.registry.register(_Present(readings))
        ProcessCollector(registry=self.registry)

    def observe(self, record: Record) -> None:
        """Count one finished request (on the event loop: no lock needed)."""
        model = record.usage_model
        self.requests[(record.protocol, model, str(record.status))] += 1
        series = self.duration.get(record.protocol)
        if series is None:
            series = self.duration[record.protocol] = _Histogram(DURATION_BUCKETS)
        series.observe(record.duration_ms / 1000)
        if record.ttfb_ms is not None:
            self.ttfb.observe(record.ttfb_ms / 1000)
        if record.attempts:
            if record.attempts > 1:
                self.attempts[("retried",)] += record.attempts - 1
            self.attempts[("failed" if record.failed else "success",)] += 1
        for direction, count in (("input", record.input_tokens),
                                 ("output", record.output_tokens),
                                 ("cached", record.cached_tokens)):
            if count:
                self.tokens[(direction, model)] += count

    def render(self) -> bytes:
        return generate_latest(self.registry)
