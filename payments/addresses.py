"""Sender address allow-lists, for providers whose notifications are unsigned."""

from __future__ import annotations

import ipaddress
import re

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(text: str) -> list[Network]:
    """Addresses or CIDR blocks separated by spaces or commas; ``ValueError`` if not."""
    return [ipaddress.ip_network(item) for item in re.split(r"[\s,]+", text.strip()) if item]


def address_allowed(remote_addr: str, networks_text: str) -> bool:
    try:
        address = ipaddress.ip_address(remote_addr.strip())
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped  # dual-stack sockets report ::ffff:a.b.c.d
    return any(address in network for network in parse_networks(networks_text))
