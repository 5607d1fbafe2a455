"""`agm serve`'s log lines leave the event loop: one thread formats and writes them to stderr.

A handler on the loop's side only queues the record (after the request-id filter); the access
log queues a bare `Line` instead. The writer thread takes them in batches (`Batches`: 20 ms'
worth, or up to a quarter second's when that is few) and writes each in one call per stream:
a slow terminal or a full pipe delays log lines, never requests.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from types import SimpleNamespace
from typing import NamedTuple, TextIO, cast

from .batches import Batches

BACKLOG = 100_000  # lines waiting for a stderr nobody reads (a paused terminal): then dropped


class Line(NamedTuple):
    """An INFO line logged without `logging`: what a `LogRecord` would say, and only that."""

    created: float
    name: str
    message: str


Item = logging.LogRecord | Line


class LineFormatter(logging.Formatter):
    """logging's Formatter, with the date and time rendered once a second rather than once a
    line (`time.strftime` was a fifth of formatting an access line); it formats `Line`s too."""

    def __init__(self, fmt: str) -> None:
        super().__init__(fmt)
        self._second = -1
        self._stamp = ""

    def line(self, line: Line) -> str:
        """What `format` makes of an INFO record saying the same (through this formatter's own
        style, given just the fields the line has)."""
        msecs = int((line.created - int(line.created)) * 1000)
        fields = SimpleNamespace(asctime=self._time(line.created, msecs), levelname="INFO",
                                 name=line.name, message=line.message)
        return self.formatMessage(cast(logging.LogRecord, fields))

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        return self._time(record.created, int(record.msecs))

    def _time(self, created: float, msecs: int) -> str:
        second = int(created)
        if second != self._second:  # one writer thread formats: no lock needed
            self._second = second
            self._stamp = time.strftime(self.default_time_format, self.converter(second))
        return f"{self._stamp},{msecs:03d}"  # as logging's default_msec_format


class Sink:
    """Where one kind of line goes: a formatter and a stream (stderr unless told)."""

    def __init__(self, formatter: LineFormatter, stream: TextIO | None = None) -> None:
        self.formatter = formatter
        self.stream = stream

    def write(self, items: list[Item]) -> None:
        stream = self.stream or sys.stderr  # looked up late: tests and shells swap sys.stderr
        try:
            stream.write("".join(self._line(item) for item in items))
            stream.flush()
        except (OSError, ValueError):  # stderr closed or gone: nothing else can report it
            pass

    def _line(self, item: Item) -> str:
        try:
            if isinstance(item, Line):
                return self.formatter.line(item) + "\n"
            return self.formatter.format(item) + "\n"
        except Exception:  # a line that cannot be formatted must not end the writer thread
            return f"{item.name}: (unformattable log line)\n"


class LogWriter:
    """The thread behind every `QueuedHandler` (and the access lines): batches what is queued
    and writes it."""

    def __init__(self) -> None:
        self._queue: Batches[tuple[Sink, Item]] = Batches(BACKLOG)
        self.dropped = 0
        self._thread = threading.Thread(target=self._run, name="agm-log-writer", daemon=True)
        self._thread.start()

    def handler(self, sink: Sink) -> logging.Handler:
        return QueuedHandler(self, sink)

    def put(self, sink: Sink, item: Item) -> None:
        if not self._queue.put((sink, item)):
            self.dropped += 1

    def stop(self) -> None:
        """Write what is queued, then end the thread."""
        self._queue.close()
        self._thread.join(5)

    def _run(self) -> None:
        while not self._queue.ended:
            items = self._queue.take()
            if items:
                _write(items)
                if not self._queue.qsize():  # after the lines that were kept, in order
                    self._report_dropped(items[0][0])

    def _report_dropped(self, sink: Sink) -> None:
        if self.dropped:
            dropped, self.dropped = self.dropped, 0
            sink.write([logging.makeLogRecord({
                "name": __name__, "levelno": logging.WARNING, "levelname": "WARNING",
                "msg": f"{dropped} log line(s) dropped: stderr was not being read"})])


def _write(items: list[tuple[Sink, Item]]) -> None:
    by_sink: dict[int, tuple[Sink, list[Item]]] = {}
    for sink, item in items:
        by_sink.setdefault(id(sink), (sink, []))[1].append(item)
    for sink, lines in by_sink.values():
        sink.write(lines)


class QueuedHandler(logging.Handler):
    """Hands each record to the writer thread (same process: nothing to pickle); the line is
    formatted there."""

    def __init__(self, writer: LogWriter, sink: Sink) -> None:
        super().__init__()
        self._writer = writer
        self._sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        try:
            record.msg, record.args = record.getMessage(), None  # the arguments as they are now
            if record.exc_info and not record.exc_text:  # the traceback, while it exists
                record.exc_text = self._sink.formatter.formatException(record.exc_info)
        except Exception:
            self.handleError(record)  # logging's own rule: a bad log call never raises
            return
        self._writer.put(self._sink, record)
