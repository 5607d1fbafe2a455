"""The one-line access log of `agm serve`: text by default, JSON lines with `--log-format json`;
never a key or a body."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import openai
import pytest

from tests.e2e.gateway import API_KEY, Gateway
from tests.fakes.cloudcode import FakeGoogle


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_access_log_line(fake: FakeGoogle, tmp_path: Path, log_format: str) -> None:
    gateway = Gateway.start(fake, tmp_path / log_format, serve_args=("--log-format", log_format),
                            custom_mapping={"my-gpt": "gemini-3-flash"})
    try:
        client = openai.OpenAI(base_url=gateway.url + "/v1", api_key=API_KEY, max_retries=0)
        client.chat.completions.create(
            model="my-gpt", messages=[{"role": "user", "content": "secret body text"}])
        time.sleep(0.3)
    finally:
        gateway.stop()
    log = gateway.log.read_text()
    assert API_KEY not in log and "secret body text" not in log
    lines = [line for line in log.splitlines() if "/v1/chat/completions" in line]
    assert len(lines) == 1
    if log_format == "json":
        entry = json.loads(lines[0])
        assert entry["status"] == 200 and entry["model"] == "my-gpt"
        assert entry["mapped_model"] == "gemini-3-flash" and entry["account"] == gateway.emails[0]
        assert entry["output_tokens"] > 0 and entry["duration_ms"] >= 0
    else:
        expected = "POST /v1/chat/completions 200 my-gpt -> gemini-3-flash user1@example.com"
        assert expected in lines[0]
        # the prefix of every text line: time, level, logger, the request id
        prefix = (r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO antigravity_gateway.access: "
                  r"\[[0-9a-f]{32}\] ")
        assert re.match(prefix + re.escape(expected), lines[0]), lines[0]
