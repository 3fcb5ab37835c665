"""What a session has cost so far, and how fast it has been."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from claude_chat.engine.events import TurnResult


@dataclass
class SessionStats:
    turns: int = 0
    failed_turns: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    first_token_times: list[float] = field(default_factory=list)
    # Every turn's result, for what the session store does not keep (cost, time to first token).
    results: list[TurnResult] = field(default_factory=list)

    def record(self, result: TurnResult) -> None:
        self.turns += 1
        self.results.append(result)
        if result.is_error:
            self.failed_turns += 1
        self.input_tokens += result.usage.prompt_tokens
        self.output_tokens += result.usage.output_tokens
        self.cost_usd += result.cost_usd
        if result.time_to_first_token_s is not None:
            self.first_token_times.append(result.time_to_first_token_s)

    def first_token_summary(self) -> str:
        times = sorted(self.first_token_times)
        if not times:
            return "no answers yet"
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
        return f"median {statistics.median(times):.2f}s, p95 {p95:.2f}s over {len(times)} turns"
