"""The gateway as a real server: `agm` subprocesses against the threaded Google simulator.

`Gateway.start(fake, tmp_path)` writes a config.toml pointing every upstream URL at the fake,
enrolls accounts through the real `agm accounts add` command, then runs `agm serve` on a free
port and waits for /healthz. Used by every e2e test (SDKs now, CLIs later).
"""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import tomli_w

from tests.fakes.cloudcode import FakeGoogle

API_KEY = "sk-e2e-test-key-42"
PNG = base64.b64decode(  # a 1x1 pixel, served to the gateway by the `image_url` fixture
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGP4z8DwHwAFAAH/iZk9HQAAAABJRU5ErkJggg=="
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_config(
    data_dir: Path,
    fake: FakeGoogle,
    port: int,
    *,
    custom_mapping: dict[str, str] | None = None,
    sections: dict[str, object] | None = None,
    **proxy: object,
) -> None:
    config: dict[str, object] = {
        "proxy": {"port": port, "api_key": API_KEY, "auth_mode": "strict", **proxy},
        "upstream": {
            "cloudcode_base_urls": fake.cloudcode_base_urls,
            "oauth_auth_url": fake.auth_url,
            "oauth_token_url": fake.token_url,
            "userinfo_url": fake.userinfo_url,
            "oauth_client_id": fake.options.client_id,
            "oauth_client_secret": fake.options.client_secret or "any",
        },
    }
    if custom_mapping:
        config["models"] = {"custom_mapping": custom_mapping}
    config.update(sections or {})  # more sections: [[upstreams]], [zai], [warmup]...
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "config.toml").write_text(tomli_w.dumps(config))


def agm(data_dir: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "antigravity_gateway", *args],
        input=stdin,
        text=True,
        capture_output=True,
        env={**os.environ, "AGM_DATA_DIR": str(data_dir)},
        timeout=60,
    )


@dataclass
class Gateway:
    data_dir: Path
    port: int
    process: subprocess.Popen[str]
    log: Path
    emails: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @classmethod
    def start(
        cls,
        fake: FakeGoogle,
        data_dir: Path,
        *,
        accounts: int = 1,
        custom_mapping: dict[str, str] | None = None,
        sections: dict[str, object] | None = None,
        serve_args: tuple[str, ...] = (),
        wait: bool = True,
        preexec_fn: Callable[[], None] | None = None,
        **proxy: object,
    ) -> Gateway:
        """`sections`: more config.toml tables, e.g. {"scheduling": {"mode": "cache_first"}};
        `serve_args`: more `agm serve` options; `wait=False`: call `wait_healthy()` yourself."""
        port = free_port()
        write_config(
            data_dir, fake, port, custom_mapping=custom_mapping, sections=sections, **proxy
        )
        emails = [enroll(fake, data_dir, f"user{i}@example.com") for i in range(1, accounts + 1)]
        log = data_dir / "serve.log"
        process = subprocess.Popen(
            [sys.executable, "-m", "antigravity_gateway", "serve", *serve_args],
            text=True,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            env={**os.environ, "AGM_DATA_DIR": str(data_dir)},
            preexec_fn=preexec_fn,
        )
        gateway = cls(data_dir, port, process, log, emails)
        if wait:
            gateway.wait_healthy()
        return gateway

    def wait_healthy(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"agm serve exited:\n{self.log.read_text()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"agm serve did not start:\n{self.log.read_text()}")

    def log_with(self, *texts: str, timeout: float = 5.0) -> str:
        """The log once it holds every one of `texts` (lines are written by a thread, in
        batches: a line may land a few ms after the request that logged it)."""
        deadline = time.monotonic() + timeout
        while True:
            log = self.log.read_text()
            if all(text in log for text in texts) or time.monotonic() > deadline:
                return log
            time.sleep(0.02)

    def stop(self) -> int:
        self.process.terminate()
        try:
            return self.process.wait(timeout=35)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


def enroll(fake: FakeGoogle, data_dir: Path, email: str) -> str:
    token = f"rt-{email}"
    fake.add_account(email, refresh_token=token)
    done = agm(data_dir, "accounts", "add", "--refresh-token", token)
    assert done.returncode == 0, done.stderr
    assert email in done.stdout
    return email
