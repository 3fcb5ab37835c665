"""The server's pool with the real CLI: more conversations than processes, and many Claude
Code processes of one tenant starting at the same moment."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest

from tests.fake_api import FakeAnthropicAPI
from tests.serving import ALICE, Served, server_env, stream_turn, text_of
from tests.terminal import processes_with_env

pytestmark = pytest.mark.integration


async def _count_processes(served: Served, seen: list[int], stop: asyncio.Event) -> None:
    while not stop.is_set():
        seen.append(len(await asyncio.to_thread(processes_with_env, served.cli_marker())))
        await asyncio.sleep(0.2)


async def test_ten_conversations_on_three_processes_keep_their_context(
    api: FakeAnthropicAPI, tmp_path: Path
) -> None:
    served = Served(
        tmp_path, server_env(tmp_path, api), "--max-processes", "3", "--queue-timeout", "600"
    )
    try:
        async with served.client(timeout=600) as client:

            async def converse(index: int) -> str:
                first = await stream_turn(client, ALICE, message=f"conv{index} one")
                session_id = first[0]["session_id"]
                await stream_turn(client, ALICE, message=f"conv{index} two", session_id=session_id)
                last = await stream_turn(client, ALICE, message="RECALL", session_id=session_id)
                assert last[0]["session_id"] == session_id
                return text_of(last)

            seen: list[int] = []
            stop = asyncio.Event()
            counting = asyncio.create_task(_count_processes(served, seen, stop))
            try:
                answers = await asyncio.gather(*(converse(i) for i in range(10)))
            finally:
                stop.set()
                await counting
            metrics = (await client.get("/metrics")).text
    finally:
        assert served.stop() == 0, served.stderr()
    for index, answer in enumerate(answers):
        assert answer == f"You said before: [conv{index} one | conv{index} two] (end)"
    assert max(seen) <= 3
    assert _value(metrics, 'claude_chat_evictions_total{reason="room"}') > 0
    assert _value(metrics, 'claude_chat_process_starts_total{reason="resume"}') > 0
    assert processes_with_env(served.cli_marker()) == []


async def test_twenty_processes_of_one_tenant_starting_at_once_keep_claude_json_valid(
    api: FakeAnthropicAPI, tmp_path: Path
) -> None:
    served = Served(tmp_path, server_env(tmp_path, api), "--max-processes", "20")
    try:
        async with served.client(timeout=600) as client:
            results = await asyncio.gather(*(_ask(client, f"at once {i}") for i in range(20)))
    finally:
        assert served.stop() == 0, served.stderr()
    assert all(answer.startswith(f"Echo: at once {i}") for i, answer in enumerate(results))
    state = served.config_dir("alice") / ".claude.json"
    json.loads(state.read_text())  # whole, not two writes interleaved
    for backup in state.parent.glob(".claude.json.*"):
        if backup.suffix != ".lock":
            assert backup.read_text().strip() == "" or json.loads(backup.read_text()) is not None


async def _ask(client: httpx.AsyncClient, text: str) -> str:
    response = await client.post("/v1/chat", json={"message": text}, headers=ALICE)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["error"] is None, answer
    return str(answer["answer"])


def _value(metrics: str, name: str) -> float:
    for line in metrics.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return 0.0
