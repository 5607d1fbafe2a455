"""The log writer thread: lines leave the event loop, batched, in order, none lost at stop."""

from __future__ import annotations

import io
import logging
import threading

from antigravity_gateway.log_writer import Line, LineFormatter, LogWriter, Sink
from antigravity_gateway.server.access_log import RequestIdFilter, _request_id


def _logger(name: str, handler: logging.Handler) -> logging.Logger:
    logger = logging.getLogger(name)
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger


class _CountingStream(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.writes = 0
        self.threads: set[str] = set()

    def write(self, text: str) -> int:
        self.writes += 1
        self.threads.add(threading.current_thread().name)
        return super().write(text)


def test_lines_are_written_in_order_by_the_writer_thread_in_few_writes() -> None:
    stream = _CountingStream()
    writer = LogWriter()
    log = _logger("t.order", writer.handler(Sink(logging.Formatter("%(message)s"), stream)))
    for n in range(200):
        log.info("line %d", n)
    writer.stop()
    assert stream.getvalue().splitlines() == [f"line {n}" for n in range(200)]
    assert stream.threads == {"agm-log-writer"}
    assert stream.writes < 20  # batched: not one write per line


def test_arguments_are_taken_when_logged_not_when_written() -> None:
    stream = _CountingStream()
    writer = LogWriter()
    log = _logger("t.args", writer.handler(Sink(logging.Formatter("%(message)s"), stream)))
    state = {"n": 1}
    log.info("state %s", state)
    state["n"] = 2
    writer.stop()
    assert stream.getvalue() == "state {'n': 1}\n"


def test_the_request_id_and_a_traceback_survive_the_hand_over() -> None:
    stream = _CountingStream()
    writer = LogWriter()
    handler = writer.handler(Sink(logging.Formatter("%(levelname)s %(message)s"), stream))
    handler.addFilter(RequestIdFilter())
    log = _logger("t.exc", handler)
    token = _request_id.set("req-7")
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("failed")
    finally:
        _request_id.reset(token)
    writer.stop()
    text = stream.getvalue()
    assert text.startswith("ERROR [req-7] failed\nTraceback")
    assert "ValueError: boom" in text


def test_a_closed_stream_does_not_kill_the_writer() -> None:
    broken = io.StringIO()
    broken.close()
    good = _CountingStream()
    writer = LogWriter()
    _logger("t.broken", writer.handler(Sink(logging.Formatter("%(message)s"), broken))).info("x")
    _logger("t.good", writer.handler(Sink(logging.Formatter("%(message)s"), good))).info("y")
    writer.stop()
    assert good.getvalue() == "y\n"


class _StuckStream(_CountingStream):
    """A stderr nobody reads, until `release`."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.release = threading.Event()

    def write(self, text: str) -> int:
        self.entered.set()
        self.release.wait(5)
        return super().write(text)


def test_a_stderr_nobody_reads_drops_lines_beyond_the_backlog_and_says_so(monkeypatch) -> None:
    import antigravity_gateway.log_writer as log_writer

    monkeypatch.setattr(log_writer, "BACKLOG", 50)
    stream = _StuckStream()
    writer = LogWriter()
    log = _logger("t.stuck", writer.handler(Sink(logging.Formatter("%(message)s"), stream)))
    log.info("first")  # the writer takes it, then blocks writing it
    assert stream.entered.wait(5)
    for n in range(200):
        log.info("line %d", n)
    stream.release.set()
    writer.stop()
    lines = stream.getvalue().splitlines()
    assert lines[0] == "first" and lines[1:51] == [f"line {n}" for n in range(50)]
    assert "150 log line(s) dropped: stderr was not being read" in lines[-1]


def test_a_bad_log_call_neither_raises_nor_stops_the_writer() -> None:
    stream = _CountingStream()
    writer = LogWriter()
    log = _logger("t.bad", writer.handler(Sink(logging.Formatter("%(message)s"), stream)))
    log.info("%d apples", "not a number")  # logging's handleError reports it, nothing raises
    log.info("still here")
    writer.stop()
    assert stream.getvalue() == "still here\n"


def test_line_formatter_writes_what_logging_writes_across_seconds() -> None:
    ours = LineFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    theirs = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    for created in (1_700_000_000.004, 1_700_000_000.999, 1_700_000_001.5, 1_700_000_000.25):
        record = logging.LogRecord("antigravity_gateway.x", logging.INFO, "", 0, "hi", (), None)
        record.created, record.msecs = created, (created - int(created)) * 1000
        assert ours.format(record) == theirs.format(record)


def test_a_line_is_written_as_the_same_record_would_be() -> None:
    for fmt in ("%(asctime)s %(levelname)s %(name)s: %(message)s", "%(message)s"):
        formatter = LineFormatter(fmt)
        record = logging.LogRecord("antigravity_gateway.access", logging.INFO, "", 0, "GET / 200",
                                   (), None)
        line = Line(record.created, "antigravity_gateway.access", "GET / 200")
        assert formatter.line(line) == formatter.format(record)
        stream = io.StringIO()
        Sink(formatter, stream).write([line, record])
        assert stream.getvalue() == f"{formatter.format(record)}\n" * 2
