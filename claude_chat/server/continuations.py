"""What the server knows of each tenant's stateless conversations: the session that goes on
from each history as its client last saw it, every point a client saw (where an edited
history forks from), and the conversations clients named.

It is kept in a journal per tenant (``continuations.jsonl`` in the tenant's dir, owner-only,
digests and names but no conversation text), so that after a restart a client's next request
still goes on in its session instead of a copy.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from claude_chat.engine.config import private_file
from claude_chat.server.history import History, prefix_digests

log = logging.getLogger("claude_chat.server")
JOURNAL = "continuations.jsonl"


@dataclass(frozen=True)
class Named:
    session_id: str
    system: str  # the digest of the system text it started with


def system_digest(history: History) -> str:
    return hashlib.sha256((history.system or "").encode("utf-8", "surrogatepass")).hexdigest()


class Continuations:
    def __init__(self, tenant_dir: Path) -> None:
        self._path = tenant_dir / JOURNAL
        self._latest: dict[str, str] = {}  # digest -> session id
        self._latest_of: dict[str, str] = {}  # session id -> digest
        self._points: dict[str, tuple[str, int]] = {}  # digest -> (session id, turns)
        self._named: dict[str, Named] = {}
        self._writing = asyncio.Lock()

    @classmethod
    async def load(cls, tenant_dir: Path) -> Continuations:
        known = cls(tenant_dir)
        try:
            text = await asyncio.to_thread(known._path.read_text, encoding="utf-8")
        except FileNotFoundError:
            return known
        except OSError as exc:
            log.warning("could not read %s: %s", known._path, exc.strerror)
            return known
        for line in text.splitlines():
            try:
                known._apply(json.loads(line))
            except (ValueError, KeyError, TypeError):
                continue  # a torn last line
        return known

    # -- reading ---------------------------------------------------------------------------

    def continued(self, history: History) -> str | None:
        """The session whose client last saw ``history`` before its newest message."""
        return self._latest.get(history.earlier_digest())

    def named(self, name: str, history: History) -> str | None:
        """The session of the conversation a client named, unless its system text changed."""
        found = self._named.get(name)
        if found is None or found.system != system_digest(history):
            return None
        return found.session_id

    def fork_point(self, history: History) -> tuple[str, int, int] | None:
        """The last point of ``history``'s earlier messages that a session's client saw: that
        session, its turns up to there, and how many of the messages it covers."""
        earlier = history.earlier
        digests = prefix_digests(history.system, earlier)
        for covered in range(len(earlier), 0, -1):
            if earlier[covered - 1].role != "assistant":
                continue
            found = self._points.get(digests[covered])
            if found is not None:
                return (*found, covered)
        return None

    # -- writing ---------------------------------------------------------------------------

    async def remember(
        self, session_id: str, seen: str, turns: int, name: str | None, history: History
    ) -> None:
        """``seen`` (``turns`` long) is now the history of ``session_id`` as its client has
        it, and only that: an older point of it is a fork."""
        entries: list[dict[str, Any]] = [{"seen": seen, "session": session_id, "turns": turns}]
        if name is not None:
            entries.append({"name": name, "session": session_id, "system": system_digest(history)})
        await self._record(entries)

    async def forget(self, session_id: str) -> None:
        """No history goes on in ``session_id`` (it holds a turn its client did not see, or
        it is gone); the points its clients saw stay, to fork from."""
        if session_id in self._latest_of:
            await self._record([{"forget": session_id}])

    async def _record(self, entries: Iterable[dict[str, Any]]) -> None:
        entries = list(entries)
        for entry in entries:
            self._apply(entry)
        text = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entries)
        async with self._writing:
            try:
                await asyncio.to_thread(self._append, text)
            except OSError as exc:  # the conversation goes on; a restart may fork it
                log.warning("could not write %s: %s", self._path, exc.strerror)

    def _append(self, text: str) -> None:
        with private_file(self._path).open("a", encoding="utf-8") as file:
            file.write(text)

    def _apply(self, entry: dict[str, Any]) -> None:
        if "seen" in entry:
            session_id, seen = str(entry["session"]), str(entry["seen"])
            self._drop_latest(session_id)
            self._latest[seen] = session_id
            self._latest_of[session_id] = seen
            self._points[seen] = (session_id, int(entry["turns"]))
        elif "forget" in entry:
            self._drop_latest(str(entry["forget"]))
        elif "name" in entry:
            self._named[str(entry["name"])] = Named(str(entry["session"]), str(entry["system"]))

    def _drop_latest(self, session_id: str) -> None:
        old = self._latest_of.pop(session_id, None)
        if old is not None and self._latest.get(old) == session_id:
            del self._latest[old]
