"""The server at its limits with the real CLI: a full pool (503), idle processes closed and
resumed, and SIGTERM with a turn running."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.fake_api import FakeAnthropicAPI
from tests.serving import ALICE, BOB, Served, server_env, sse_events, stream_turn, text_of
from tests.terminal import processes_with_env

pytestmark = pytest.mark.integration


async def test_a_full_pool_answers_503_and_an_idle_process_is_closed_then_resumed(
    api: FakeAnthropicAPI, tmp_path: Path
) -> None:
    served = Served(
        tmp_path,
        server_env(tmp_path, api),
        "--max-processes", "1", "--queue-timeout", "1", "--idle-timeout", "1",
        "--metrics-key", "metrics-key-not-a-credential",
    )  # fmt: skip
    try:
        async with served.client() as client:
            body = {"message": "SLOW 8"}
            async with client.stream(
                "POST", "/v1/chat/stream", json=body, headers=ALICE
            ) as response:
                events = sse_events(response)
                session = await anext(events)
                refused = await client.post("/v1/chat", json={"message": "x"}, headers=BOB)
                assert refused.status_code == 503, refused.text
                assert int(refused.headers["retry-after"]) >= 1
                assert refused.json()["error"]["type"] == "overloaded_error"
                async for _ in events:
                    pass
            # Idle for longer than the timeout: the process is closed...
            for _ in range(600):
                if (await client.get("/healthz")).json()["processes"] == 0:
                    break
                await asyncio.sleep(0.05)
            assert (await client.get("/healthz")).json()["processes"] == 0
            assert processes_with_env(served.cli_marker()) == []
            # ...and the session resumes in a new one, context intact.
            again = await stream_turn(
                client, ALICE, message="RECALL", session_id=session["session_id"]
            )
            assert text_of(again) == "You said before: [SLOW 8] (end)"
            assert (await client.get("/metrics")).status_code == 401
            metrics_key = {"Authorization": "Bearer metrics-key-not-a-credential"}
            metrics = (await client.get("/metrics", headers=metrics_key)).text
            assert 'claude_chat_evictions_total{reason="idle"} 1.0' in metrics
    finally:
        assert served.stop() == 0, served.stderr()


async def test_sigterm_lets_the_running_turn_finish_and_leaves_no_process(
    api: FakeAnthropicAPI, tmp_path: Path
) -> None:
    served = Served(tmp_path, server_env(tmp_path, api))
    async with served.client() as client:
        body = {"message": "SLOW 6"}
        async with client.stream("POST", "/v1/chat/stream", json=body, headers=ALICE) as response:
            events = sse_events(response)
            assert (await anext(events))["type"] == "session"
            assert (await anext(events))["type"] == "content_block_delta"
            assert processes_with_env(served.cli_marker())
            served.process.terminate()
            rest = [event async for event in events]
            # New turns are refused while it drains.
            draining = await client.get("/healthz")
            assert draining.status_code == 503 and draining.json()["status"] == "draining"
    assert rest[-1]["type"] == "result" and not rest[-1]["interrupted"]
    assert text_of(rest).endswith("slow5 ")
    assert await asyncio.to_thread(served.process.wait, 60) == 0
    assert processes_with_env(served.cli_marker()) == []
    assert "Traceback" not in served.stderr()


def test_serve_without_keys_makes_one_and_refuses_other_hosts(
    api: FakeAnthropicAPI, tmp_path: Path
) -> None:
    env = server_env(tmp_path, api)
    serve = [sys.executable, "-m", "claude_chat", "serve"]
    refused = subprocess.run(
        [*serve, "--host", "0.0.0.0", "--port", "0"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert refused.returncode == 2 and "loopback" in refused.stderr
    process = subprocess.Popen(
        [*serve, "--port", "0"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        url = process.stdout.readline().split("listening on ")[1].split()[0]
        key = process.stdout.readline().rsplit(" ", 1)[1].strip()
        auth = {"Authorization": f"Bearer {key}"}
        assert httpx.get(f"{url}/v1/sessions", headers=auth).json() == {"sessions": []}
        assert httpx.get(f"{url}/v1/sessions").status_code == 401
    finally:
        process.terminate()
        assert process.wait(60) == 0
    bad = tmp_path / "keys.toml"
    bad.write_text("[tenants.x]\nkey = 3\n")
    wrong = subprocess.run(
        [*serve, "--keys-file", str(bad)], env=env, capture_output=True, text=True, timeout=60
    )
    assert wrong.returncode == 2 and "needs a key" in wrong.stderr
