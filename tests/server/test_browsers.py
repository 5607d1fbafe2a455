"""The Host rule's verdicts, remembered per Host value within bounds (the e2e tests drive the
whole browser rule through `agm serve`: tests/e2e/test_browser_safety.py)."""

from __future__ import annotations

from antigravity_gateway.server import browsers
from tests.server.helpers import settings_with


def test_a_remembered_host_gets_the_same_verdict_and_the_memory_is_bounded() -> None:
    policy = browsers.Policy.of(settings_with(proxy={"allowed_hosts": ["gw.example"]}),
                                frozenset())
    for _ in range(2):
        assert policy.host_ok("localhost:8045") and policy.host_ok("GW.example.:443")
        assert not policy.host_ok("evil.example")
    for n in range(browsers.HOSTS_KEPT * 2):  # a client may send any Host it likes
        assert not policy.host_ok(f"rebind-{n}.example")
    assert len(policy._hosts) == browsers.HOSTS_KEPT
    assert policy.host_ok("127.0.0.1") and not policy.host_ok("evil.example")
