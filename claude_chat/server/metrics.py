"""Prometheus metrics, named and bucketed the way LLM servers (vLLM, TGI) do it.

Time to first token here counts from the request, so it includes a Claude Code start-up
(about a second), a resume, queueing and tool turns: its buckets reach minutes.
"""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from claude_chat.engine.events import TurnResult

TTFT_BUCKETS = (
    0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 7.5, 10.0, 15.0, 20.0, 30.0,
    45.0, 60.0, 90.0, 120.0, 180.0, 300.0, 600.0,
)  # fmt: skip
DURATION_BUCKETS = (
    0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 7.5, 10.0, 15.0, 20.0, 30.0, 45.0, 60.0, 90.0, 120.0,
    180.0, 300.0, 600.0, 1200.0, 1800.0, 3600.0,
)  # fmt: skip
QUEUE_BUCKETS = (
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0,
    120.0,
)  # fmt: skip
CONTENT_TYPE = CONTENT_TYPE_LATEST


class Metrics:
    """One registry per app, so that several apps in one process keep their own counts."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.time_to_first_token = Histogram(
            "claude_chat_time_to_first_token_seconds",
            "From the request to the first streamed content, start-up and queueing included.",
            buckets=TTFT_BUCKETS,
            registry=r,
        )
        self.turn_duration = Histogram(
            "claude_chat_turn_duration_seconds",
            "From the request to the end of the turn.",
            buckets=DURATION_BUCKETS,
            registry=r,
        )
        self.turns = Counter(
            "claude_chat_turns", "Turns by how they ended.", ["tenant", "outcome"], registry=r
        )
        self.tokens = Counter(
            "claude_chat_tokens", "Tokens, read (input) and written (output).",
            ["tenant", "direction"], registry=r,
        )  # fmt: skip
        self.cost = Counter(
            "claude_chat_cost_usd", "Cost Claude Code reported, in USD.", ["tenant"], registry=r
        )
        self.processes = Gauge(
            "claude_chat_processes", "Claude Code processes: live, and busy with a turn.",
            ["state"], registry=r,
        )  # fmt: skip
        self.queue_wait = Histogram(
            "claude_chat_queue_wait_seconds",
            "How long a turn waited for a Claude Code process.",
            buckets=QUEUE_BUCKETS,
            registry=r,
        )
        self.process_starts = Counter(
            "claude_chat_process_starts", "Claude Code processes started: for a new session, "
            "to resume one, after a crash.", ["reason"], registry=r,
        )  # fmt: skip
        self.rejections = Counter(
            "claude_chat_rejections", "Turns refused before they started: 503 (no process in "
            "time, or shutting down) and 429 (a tenant over its limit).", ["status"], registry=r,
        )  # fmt: skip
        self.evictions = Counter(
            "claude_chat_evictions", "Idle processes closed: for room (least recently used) "
            "or after the idle timeout.", ["reason"], registry=r,
        )  # fmt: skip

    def observe_turn(self, tenant: str, result: TurnResult) -> None:
        outcome = "interrupted" if result.interrupted else "error" if result.is_error else "ok"
        self.turns.labels(tenant, outcome).inc()
        self.turn_duration.observe(result.duration_s)
        if result.time_to_first_token_s is not None:
            self.time_to_first_token.observe(result.time_to_first_token_s)
        self.tokens.labels(tenant, "input").inc(result.usage.prompt_tokens)
        self.tokens.labels(tenant, "output").inc(result.usage.output_tokens)
        self.cost.labels(tenant).inc(result.cost_usd)

    def render(self) -> bytes:
        return generate_latest(self.registry)
