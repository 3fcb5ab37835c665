"""Credentials that must never reach a file we write (journal, transcripts), and their removal."""

from __future__ import annotations

import re
from collections.abc import Mapping

_CREDENTIALS = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN")
_NAMED_LIKE_ONE = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL)", re.I)


def secrets_from(environment: Mapping[str, str]) -> dict[str, str]:
    """Values that must not be written: credentials, and anything whose variable name says it
    is a key, token, secret or password."""
    return {
        name: value
        for name, value in environment.items()
        if len(value) >= 8 and (name in _CREDENTIALS or _NAMED_LIKE_ONE.search(name))
    }


class Redactor:
    """Replaces each secret's value by ``[redacted NAME]``, longest first (one may contain
    another)."""

    def __init__(self, secrets: Mapping[str, str] | None) -> None:
        self._secrets = sorted((secrets or {}).items(), key=lambda kv: len(kv[1]), reverse=True)
        self.longest = max((len(value) for _, value in self._secrets), default=0)

    def __bool__(self) -> bool:
        return bool(self._secrets)

    def __call__(self, text: str) -> str:
        for name, secret in self._secrets:
            if secret in text:
                text = text.replace(secret, f"[redacted {name}]")
        return text
