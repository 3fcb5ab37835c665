"""Server keys and the tenants they stand for; a request's Claude credentials."""

from __future__ import annotations

import hmac
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from claude_chat.engine.errors import ChatError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

TENANT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
OAUTH_HEADER = "x-claude-code-oauth-token"
API_KEY_HEADER = "x-anthropic-api-key"


class KeysError(ChatError):
    """The server keys given cannot be used."""


@dataclass(frozen=True)
class Credentials:
    """Claude credentials for a conversation; none means the server's own environment."""

    api_key: str | None = field(default=None, repr=False)
    oauth_token: str | None = field(default=None, repr=False)

    def __bool__(self) -> bool:
        return bool(self.api_key or self.oauth_token)


@dataclass(frozen=True)
class Tenant:
    name: str
    key: str = field(repr=False)
    credentials: Credentials = Credentials()
    max_concurrent: int | None = None
    cwd: Path | None = None


class Keyring:
    """Finds the tenant of a key, in time that does not depend on how much of it matched."""

    def __init__(self, tenants: Iterable[Tenant]) -> None:
        self.tenants = list(tenants)
        if not self.tenants:
            raise KeysError("no server keys")

    def tenant_for(self, key: str | None) -> Tenant | None:
        if not key:
            return None
        given = key.encode("utf-8", "surrogateescape")
        found = None
        for tenant in self.tenants:  # every key is compared, found or not
            if hmac.compare_digest(given, tenant.key.encode("utf-8")):
                found = tenant
        return found

    def tenant_for_header(self, authorization: str | None) -> Tenant | None:
        return self.tenant_for(bearer_token(authorization))


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def request_credentials(headers: Mapping[str, str], tenant: Tenant) -> Credentials:
    """The request's own credentials if it sends any, else the tenant's (else none: the
    server's environment)."""
    oauth_token = headers.get(OAUTH_HEADER) or None
    api_key = headers.get(API_KEY_HEADER) or None
    if oauth_token and api_key:
        raise ValueError(
            "send one Claude credential: X-Claude-Code-OAuth-Token or X-Anthropic-Api-Key"
        )
    if oauth_token or api_key:
        return Credentials(api_key=api_key, oauth_token=oauth_token)
    return tenant.credentials


def tenants_from_text(text: str) -> list[Tenant]:
    """``alice:KEY1,bob:KEY2`` (``CLAUDE_CHAT_SERVER_KEYS``)."""
    tenants = []
    for entry in text.split(","):
        entry = entry.strip()
        if not entry:
            continue
        name, colon, key = entry.partition(":")
        if not colon or not key.strip():
            raise KeysError("CLAUDE_CHAT_SERVER_KEYS takes tenant:key pairs separated by commas")
        tenants.append(Tenant(_name(name.strip()), key.strip()))
    return tenants


def tenants_from_file(path: Path) -> list[Tenant]:
    """A TOML file of ``[tenants.NAME]`` tables: ``key``, and optionally ``api_key`` or
    ``oauth_token``, ``max_concurrent``, ``cwd``."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise KeysError(f"keys file {path}: {exc.strerror}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise KeysError(f"keys file {path}: not TOML: {exc}") from exc
    tables = data.get("tenants")
    if not isinstance(tables, dict) or not tables:
        raise KeysError(f"keys file {path}: no [tenants.NAME] table")
    return [_tenant(path, name, table) for name, table in tables.items()]


def _tenant(path: Path, name: str, table: Any) -> Tenant:
    where = f"keys file {path}, tenant {name!r}"
    if not isinstance(table, dict):
        raise KeysError(f"{where}: not a table")
    unknown = set(table) - {"key", "api_key", "oauth_token", "max_concurrent", "cwd"}
    if unknown:
        raise KeysError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    key = table.get("key")
    if not isinstance(key, str) or not key:
        raise KeysError(f"{where}: needs a key")
    strings = {f: table.get(f) for f in ("api_key", "oauth_token", "cwd")}
    for field_name, value in strings.items():
        if value is not None and not (isinstance(value, str) and value):
            raise KeysError(f"{where}: {field_name} must be a non-empty string")
    if strings["api_key"] and strings["oauth_token"]:
        raise KeysError(f"{where}: give api_key or oauth_token, not both")
    limit = table.get("max_concurrent")
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
        raise KeysError(f"{where}: max_concurrent must be a whole number above 0")
    cwd = Path(strings["cwd"]) if strings["cwd"] else None
    if cwd is not None and not cwd.is_dir():
        raise KeysError(f"{where}: cwd {cwd} is not a directory")
    return Tenant(
        _name(name),
        key,
        Credentials(api_key=strings["api_key"], oauth_token=strings["oauth_token"]),
        limit,
        cwd,
    )


def _name(name: str) -> str:
    if not TENANT_NAME.fullmatch(name):
        raise KeysError(
            f"tenant name {name[:70]!r}: letters, digits, '.', '_' and '-' only (a directory name)"
        )
    return name


def check_unique(tenants: list[Tenant]) -> list[Tenant]:
    names = [t.name for t in tenants]
    keys = [t.key for t in tenants]
    if len(set(names)) != len(names):
        raise KeysError("a tenant is named twice")
    if len(set(keys)) != len(keys):
        raise KeysError("two tenants have the same key")
    return tenants
