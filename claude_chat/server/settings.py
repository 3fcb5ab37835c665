"""What a server is started with."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from claude_chat.engine.config import PermissionMode

# About what one idle Claude Code process takes resident, with room for it to work.
MEMORY_PER_PROCESS = 250 * 1024 * 1024
MAX_DEFAULT_PROCESSES = 64


def default_max_processes() -> int:
    """As many Claude Code processes as the machine's memory holds, at most 64."""
    try:
        memory = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 8
    return max(1, min(MAX_DEFAULT_PROCESSES, memory // MEMORY_PER_PROCESS))


@dataclass(frozen=True)
class ClusterSettings:
    """``serve --redis``: sessions and their ownership shared with other nodes."""

    redis_url: str = field(repr=False)  # it may hold a password
    node_id: str
    # Where the other nodes reach this one, to forward a request for a session it owns.
    advertise_url: str
    lease_ttl_s: float = 15.0
    prefix: str = "claude-chat"


@dataclass(frozen=True)
class ServerSettings:
    data_dir: Path
    cwd: Path
    max_processes: int = field(default_factory=default_max_processes)
    idle_timeout_s: float = 600.0
    queue_timeout_s: float = 30.0
    permission_mode: PermissionMode | None = None
    cli_path: Path | None = None
    max_body_bytes: int = 1024 * 1024
    metrics_key: str | None = field(default=None, repr=False)
    # The OpenAI and Anthropic endpoints: the request's user (metadata.user_id) names its
    # conversation, as an X-Claude-Chat-Session header does.
    user_names_session: bool = False
    # How long a WebSocket client has to answer a permission request before it is denied.
    permission_timeout_s: float = 120.0
    # SIGTERM: how long running turns may go on before they are interrupted.
    shutdown_grace_s: float = 30.0
    # A comment line this often keeps proxies from closing an idle event stream.
    ping_interval_s: float = 15.0
    # A client that takes longer than this to take one event is gone.
    send_timeout_s: float = 30.0
    cluster: ClusterSettings | None = None

    def tenant_dir(self, tenant: str) -> Path:
        return self.data_dir / "tenants" / tenant

    def claude_config_dir(self, tenant: str) -> Path:
        """The tenant's own ``CLAUDE_CONFIG_DIR``: its sessions and Claude Code's state."""
        return self.tenant_dir(tenant) / "claude"
