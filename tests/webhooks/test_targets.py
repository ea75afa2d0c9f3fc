"""SSRF guard: only http(s) URLs whose every address is public."""

from __future__ import annotations

import pytest

from app.webhooks.targets import TargetGuard, TargetNotAllowed, forbidden_reason
from tests.webhooks.conftest import PUBLIC_IP, FakeDns


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("10.0.0.5", "private"),
        ("172.16.3.4", "private"),
        ("192.168.1.1", "private"),
        ("fd12:3456::1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("240.0.0.1", "private"),  # reserved; Python also flags it private
        ("100.64.0.1", "not globally routable"),  # CGNAT
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
        ("::ffff:10.0.0.1", "private"),
        ("2002:a00:1::", "private"),  # 6to4 of 10.0.0.1
        ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 of 169.254.169.254
    ],
)
def test_non_public_addresses_are_refused(address: str, reason: str) -> None:
    assert forbidden_reason(address) == reason


@pytest.mark.parametrize("address", [PUBLIC_IP, "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_pass(address: str) -> None:
    assert forbidden_reason(address) is None


async def test_a_host_resolving_to_a_private_address_is_refused(guard: TargetGuard) -> None:
    with pytest.raises(TargetNotAllowed) as err:
        await guard.check("https://internal.example.com/hook")
    assert err.value.code == "webhook_target_not_allowed"
    assert err.value.status == 422
    assert "private" in err.value.detail


async def test_one_private_address_among_public_ones_is_enough_to_refuse(
    guard: TargetGuard,
) -> None:
    with pytest.raises(TargetNotAllowed, match="loopback"):
        await guard.check("https://mixed.example.com/hook")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "http://localhost/hook",
        "http://[::1]/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://metadata.example.com/",
        "http://0.0.0.0:5432/",
    ],
)
async def test_loopback_link_local_and_unspecified_urls_are_refused(url: str) -> None:
    dns = FakeDns()
    dns.records["localhost"] = ["127.0.0.1", "::1"]
    with pytest.raises(TargetNotAllowed):
        await TargetGuard(resolver=dns).check(url)


@pytest.mark.parametrize(
    "url", ["ftp://hooks.example.com/x", "file:///etc/passwd", "gopher://a/", "not a url"]
)
async def test_only_http_and_https(guard: TargetGuard, url: str) -> None:
    with pytest.raises(TargetNotAllowed) as err:
        await guard.check(url)
    assert err.value.code == "webhook_target_not_allowed"


async def test_credentials_in_the_url_are_refused(guard: TargetGuard) -> None:
    with pytest.raises(TargetNotAllowed, match="Credentials"):
        await guard.check("https://user:pass@hooks.example.com/x")


async def test_an_unresolvable_host_is_refused(guard: TargetGuard) -> None:
    with pytest.raises(TargetNotAllowed) as err:
        await guard.check("https://nowhere.invalid/hook")
    assert err.value.code == "webhook_target_unresolvable"


async def test_a_public_target_is_pinned_to_the_checked_address(guard: TargetGuard) -> None:
    target = await guard.check("https://hooks.example.com:8443/in?x=1")
    assert str(target.request_url()) == f"https://{PUBLIC_IP}:8443/in?x=1"
    assert target.headers() == {"Host": "hooks.example.com:8443"}
    assert target.extensions() == {"sni_hostname": "hooks.example.com"}


async def test_an_ipv6_target_is_bracketed(guard: TargetGuard) -> None:
    target = await guard.check("http://crm.example.com/in")
    assert str(target.request_url()) == "http://[2606:2800:220:1:248:1893:25c8:1946]/in"
    assert target.headers() == {"Host": "crm.example.com"}
    assert target.extensions() == {}


async def test_allow_private_targets_turns_the_guard_off() -> None:
    target = await TargetGuard(allow_private=True).check("http://127.0.0.1:9999/hook")
    assert str(target.request_url()) == "http://127.0.0.1:9999/hook"
    assert target.headers() == {}
    assert target.extensions() == {}


async def test_the_system_resolver_refuses_localhost() -> None:
    with pytest.raises(TargetNotAllowed, match="loopback"):
        await TargetGuard().check("http://localhost:8000/hook")
