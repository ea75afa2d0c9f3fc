"""SSRF guard for webhook URLs.

A subscriber chooses the URL, so without a check anyone with `webhooks:manage` could
make the server POST into its own network (metadata services, admin ports, databases).
A target is refused unless it is http(s) and *every* address its host resolves to is
globally routable: loopback, private, link-local, multicast, reserved, unspecified,
shared (CGNAT) and IPv4 addresses hidden inside IPv6 (mapped, 6to4, NAT64) all count
as private. The check runs at create/update and again before every delivery, and the
delivery connects to the address that was checked (the Host header and TLS SNI keep
the name), so a DNS answer that changes in between (rebinding) cannot slip through.
`CLUB_RENEWAL_WEBHOOK_ALLOW_PRIVATE_TARGETS=true` turns the guard off (development).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from app.errors import RuleViolation

Resolver = Callable[[str, int], Awaitable[list[str]]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")


class TargetNotAllowed(RuleViolation):
    code = "webhook_target_not_allowed"


async def system_resolver(host: str, port: int) -> list[str]:
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _embedded_v4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64 or ip in _NAT64_LOCAL:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.teredo is not None:
        return ip.teredo[1]
    return None


def forbidden_reason(address: str) -> str | None:
    """Why a connection to `address` is refused, or None if it is a public address."""
    try:
        ip: IPAddress = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "not an IP address"
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_v4(ip)
        if inner is not None:
            reason = forbidden_reason(str(inner))
            if reason is not None:
                return reason
    for attr, label in (
        ("is_unspecified", "unspecified"),
        ("is_loopback", "loopback"),
        ("is_link_local", "link-local"),
        ("is_multicast", "multicast"),
        ("is_private", "private"),
        ("is_reserved", "reserved"),
    ):
        if getattr(ip, attr):
            return label
    if not ip.is_global:
        return "not globally routable"
    return None


@dataclass(frozen=True)
class ResolvedTarget:
    url: httpx.URL
    address: str | None  # the checked address to connect to; None when unchecked

    def request_url(self) -> httpx.URL:
        return self.url if self.address is None else self.url.copy_with(host=self.address)

    def headers(self) -> dict[str, str]:
        if self.address is None:
            return {}
        host = self.url.host
        if ":" in host:
            host = f"[{host}]"
        default = 443 if self.url.scheme == "https" else 80
        port = self.url.port
        return {"Host": host if port in (None, default) else f"{host}:{port}"}

    def extensions(self) -> dict[str, str]:
        if self.address is None or self.url.scheme != "https":
            return {}
        return {"sni_hostname": self.url.host}


@dataclass(frozen=True)
class TargetGuard:
    allow_private: bool = False
    resolver: Resolver = system_resolver
    resolve_timeout: float = 5.0

    @staticmethod
    def parse(url: str) -> httpx.URL:
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, ValueError) as exc:
            raise TargetNotAllowed("The webhook URL is not a valid URL.") from exc
        if parsed.scheme not in ("http", "https"):
            raise TargetNotAllowed("Webhook URLs must use http or https.")
        if not parsed.host:
            raise TargetNotAllowed("The webhook URL has no host.")
        if parsed.userinfo:
            raise TargetNotAllowed(
                "Credentials in the URL are not supported; verify Webhook-Signature instead."
            )
        return parsed

    async def check(self, url: str) -> ResolvedTarget:
        """Refuse a URL that is not http(s) or resolves to a non-public address."""
        parsed = self.parse(url)
        if self.allow_private:
            return ResolvedTarget(parsed, None)
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        try:
            addresses = await asyncio.wait_for(
                self.resolver(parsed.host, port), self.resolve_timeout
            )
        except (OSError, TimeoutError, UnicodeError) as exc:
            raise TargetNotAllowed(
                f"The webhook host {parsed.host!r} does not resolve.",
                code="webhook_target_unresolvable",
            ) from exc
        if not addresses:
            raise TargetNotAllowed(
                f"The webhook host {parsed.host!r} does not resolve.",
                code="webhook_target_unresolvable",
            )
        for address in addresses:
            reason = forbidden_reason(address)
            if reason is not None:
                raise TargetNotAllowed(
                    f"The webhook host {parsed.host!r} resolves to a {reason} address; "
                    "only public addresses may receive webhooks."
                )
        return ResolvedTarget(parsed, addresses[0])
