"""The server's keys, from where ``serve`` is told to take them (or made up for loopback)."""

from __future__ import annotations

import ipaddress
import secrets
from pathlib import Path

from claude_chat.server.auth import (
    Keyring,
    KeysError,
    Tenant,
    check_unique,
    tenants_from_file,
    tenants_from_text,
)


def keyring(keys_text: str | None, keys_file: Path | None) -> tuple[Keyring, str | None]:
    """The tenants of ``CLAUDE_CHAT_SERVER_KEYS`` and the keys file; with neither, one tenant
    ``default`` with a random key, returned as well so that it can be shown once."""
    tenants: list[Tenant] = []
    if keys_text:
        tenants += tenants_from_text(keys_text)
    if keys_file is not None:
        tenants += tenants_from_file(keys_file)
    if keys_text is not None and not tenants:
        raise KeysError("CLAUDE_CHAT_SERVER_KEYS is set but holds no tenant:key pair")
    if tenants:
        return Keyring(check_unique(tenants)), None
    key = secrets.token_urlsafe(32)
    return Keyring([Tenant("default", key)]), key


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
