"""The SSRF guard: an endpoint URL must be https and resolve to public addresses only.

Checked when an endpoint is saved and again before every attempt, since DNS can change in
between. ``SOMNA_WEBHOOKS_ALLOW_PRIVATE=true`` (tests, the demo) lifts both rules.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from somna.outgoing.exceptions import InvalidWebhookUrl


def _address_problem(address: str) -> str | None:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if not ip.is_global or ip.is_multicast:
        return f"{address} is not a public address"
    return None


def check_shape(url: str, *, allow_private: bool) -> tuple[str, int]:
    """The host and port of a well-formed endpoint URL; raises ``InvalidWebhookUrl``."""
    parts = urlsplit(url)
    allowed = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in allowed:
        raise InvalidWebhookUrl("Webhook endpoints must use https.", extra={"url": url})
    if not parts.hostname or parts.username or parts.password:
        raise InvalidWebhookUrl(
            "A webhook URL needs a host and no credentials in it.", extra={"url": url}
        )
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise InvalidWebhookUrl("The URL's port is not a number.", extra={"url": url}) from None
    return parts.hostname, port


async def check_url(url: str, *, allow_private: bool) -> None:
    """Refuse URLs that are not https or that resolve to loopback, private or reserved
    addresses (unless ``allow_private``)."""
    host, port = check_shape(url, allow_private=allow_private)
    if allow_private:
        return
    try:
        addresses = [ipaddress.ip_address(host).compressed]
    except ValueError:
        try:
            found = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM
            )
        except OSError:
            raise InvalidWebhookUrl(
                f"The host {host!r} does not resolve.", extra={"url": url}
            ) from None
        addresses = sorted({str(item[4][0]) for item in found})
    for address in addresses:
        problem = _address_problem(address)
        if problem is not None:
            raise InvalidWebhookUrl(
                f"Webhook endpoints must be public: {problem}.", extra={"url": url}
            )
