"""Processes of `bench/run.py`: the simulator, the gateway, litellm and nginx, pinned to cores.

Everything runs on loopback. The simulator and the load generator share core 0; the proxy under
test gets core 1 (`taskset`). CPU and RSS are read from /proc, summed over a process and its
children (nginx's master + worker, litellm's uvicorn).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.gateway import API_KEY  # noqa: E402  (one key for the bench and the tests)

LITELLM_VENV = ROOT / "bench" / ".venv-litellm"
LITELLM_VERSION = "1.108.7"
CLK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    url: str
    pids: list[int] = field(default_factory=list)

    def all_pids(self) -> list[int]:
        return [self.popen.pid, *children(self.popen.pid)]

    def cpu(self) -> float:
        return sum(cpu_seconds(pid) for pid in self.all_pids())

    def rss(self) -> int:
        return sum(rss_bytes(pid) for pid in self.all_pids())

    def stop(self) -> None:
        self.popen.terminate()
        try:
            self.popen.wait(10)
        except subprocess.TimeoutExpired:
            self.popen.kill()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process so far."""
    return _cpu(Path(f"/proc/{pid}/stat"))


def thread_cpu_seconds(pid: int) -> dict[int, float]:
    """The same for each thread of one process, by thread id (ids go up in creation order)."""
    return {int(task.name): _cpu(task / "stat") for task in Path(f"/proc/{pid}/task").glob("*")}


def wakeups(pid: int) -> int:
    """Voluntary context switches of all the threads of one process so far: how often they
    slept and were woken."""
    total = 0
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            status = (task / "status").read_text()
        except FileNotFoundError:
            continue
        total += int(status.split("\nvoluntary_ctxt_switches:")[1].split()[0])
    return total


def _cpu(stat: Path) -> float:
    """User + system CPU time from a /proc stat file (fields 14, 15)."""
    try:
        fields = stat.read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK


def rss_bytes(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
    except FileNotFoundError:
        return 0


def children(pid: int) -> list[int]:
    """All descendants of pid (via /proc/PID/task/*/children)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            kids = [int(k) for k in (task / "children").read_text().split()]
        except FileNotFoundError:
            continue
        for kid in kids:
            found += [kid, *children(kid)]
    return found


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pinned(core: int, argv: list[str]) -> list[str]:
    return ["taskset", "-c", str(core), *argv]


def start_sim() -> tuple[subprocess.Popen[bytes], dict]:
    proc = subprocess.Popen(pinned(0, [sys.executable, str(ROOT / "bench" / "sim.py")]),
                            cwd=ROOT, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    return proc, json.loads(proc.stdout.readline())


def start_gateway(sim: dict, data_dir: Path, src: str | None = None, extra: str = "",
                  under: tuple[str, ...] = ()) -> Proc:
    """`agm serve` on core 1; `under`: a command it runs under (valgrind, for one)."""
    port = free_port()
    env = {**os.environ, "AGM_DATA_DIR": str(data_dir)}
    if src:
        env["PYTHONPATH"] = src
    (data_dir / "config.toml").write_text(
        f'[proxy]\nport = {port}\napi_key = "{API_KEY}"\nauth_mode = "strict"\n'
        f"[upstream]\ncloudcode_base_urls = {json.dumps(sim['cloudcode_base_urls'])}\n"
        f'oauth_token_url = "{sim["token_url"]}"\nuserinfo_url = "{sim["userinfo_url"]}"\n'
        f'oauth_client_secret = "{sim["client_secret"]}"\n{extra}')
    for token in sim["accounts"].values():
        subprocess.run([sys.executable, "-m", "antigravity_gateway", "accounts", "add",
                        "--refresh-token", token], env=env, check=True, capture_output=True)
    popen = subprocess.Popen(pinned(1, [*under, sys.executable, "-m", "antigravity_gateway",
                                         "serve"]),
                             env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return Proc("gateway", popen, f"http://127.0.0.1:{port}")


def start_bare(sim: dict, client: str = "aiohttp") -> Proc:
    """tests/e2e/bare_relay.py, the least any aiohttp gateway must do (non-stream chat only):
    the floor under the gateway's CPU per request. `client="wire"`: with the gateway's own
    upstream client (`bare-wire`), the floor of this gateway's stack."""
    port = free_port()
    argv = [sys.executable, "-m", "tests.e2e.bare_relay", "--port", str(port), "--upstream",
            sim["cloudcode_base_urls"][0], "--token", "bench", "--project", "bench",
            "--client", client]
    popen = subprocess.Popen(pinned(1, argv), cwd=ROOT, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    return Proc("bare" if client == "aiohttp" else f"bare-{client}", popen,
                f"http://127.0.0.1:{port}")


def ensure_litellm() -> Path | None:
    """litellm's proxy in a bench-only venv (installed from PyPI on first use)."""
    exe = LITELLM_VENV / "bin" / "litellm"
    if exe.exists():
        return exe
    print(f"installing litellm[proxy]=={LITELLM_VERSION} into {LITELLM_VENV} ...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(LITELLM_VENV)], check=True)
    done = subprocess.run([str(LITELLM_VENV / "bin" / "pip"), "install", "-q",
                           f"litellm[proxy]=={LITELLM_VERSION}"])
    return exe if done.returncode == 0 and exe.exists() else None


def start_litellm(sim: dict, work: Path) -> Proc | None:
    """litellm proxy, OpenAI chat in -> the public Gemini API out (its `gemini/` provider)."""
    exe = ensure_litellm()
    if exe is None:
        return None
    port = free_port()
    config = work / "litellm.yaml"
    config.write_text(
        "model_list:\n  - model_name: gemini-3-flash\n    litellm_params:\n"
        "      model: gemini/gemini-3-flash\n      api_key: fake-key-1\n"
        f"      api_base: {sim['base_url']}/gemini\n"
        "litellm_settings:\n  telemetry: false\n  drop_params: true\n"
        f"general_settings:\n  master_key: {API_KEY}\n")
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_LOG": "ERROR",
           "NO_DOCS": "True", "DISABLE_ADMIN_UI": "True"}
    popen = subprocess.Popen(
        pinned(1, [str(exe), "--config", str(config), "--port", str(port), "--num_workers", "1"]),
        env=env, cwd=work, stdout=subprocess.DEVNULL, stderr=open(work / "litellm.log", "wb"))
    return Proc("litellm", popen, f"http://127.0.0.1:{port}")


NGINX_CONF = """worker_processes 1;
daemon off;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log;
events {{ worker_connections 8192; }}
http {{
  access_log off;
  client_body_temp_path {work}/body; proxy_temp_path {work}/proxy;
  fastcgi_temp_path {work}/f; uwsgi_temp_path {work}/u; scgi_temp_path {work}/s;
  upstream sim {{ server 127.0.0.1:{sim_port}; keepalive 256; }}
  server {{
    listen 127.0.0.1:{port};
    client_max_body_size 64m;
    location / {{
      proxy_pass http://sim;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_request_buffering off;
    }}
  }}
}}
"""


def start_nginx(sim: dict, work: Path) -> Proc | None:
    """nginx as a plain pass-through hop in front of the simulator: the floor of one more hop."""
    exe = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if exe is None:
        print("nginx not found: `apt-get install -y nginx-light` to include the nginx hop")
        return None
    port = free_port()
    sim_port = sim["base_url"].rsplit(":", 1)[1]
    (work / "nginx.conf").write_text(NGINX_CONF.format(work=work, port=port, sim_port=sim_port))
    popen = subprocess.Popen(pinned(1, [exe, "-p", str(work), "-c", str(work / "nginx.conf")]),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.3)
    return Proc("nginx", popen, f"http://127.0.0.1:{port}")
