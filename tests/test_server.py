"""``claude-chat serve``: one real server for the module (uvicorn on 127.0.0.1, the real CLI
against the stand-in API), driven over real HTTP, SSE and WebSocket."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from tests.fake_api import FakeAnthropicAPI, HTTPError
from tests.serving import (
    ALICE,
    BOB,
    CAROL,
    SERVER_ENV_KEY,
    Served,
    serve_for_module,
    sse_events,
    stream_turn,
    text_of,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def shared_api() -> Iterator[FakeAnthropicAPI]:
    with FakeAnthropicAPI() as api:
        yield api


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, shared_api: FakeAnthropicAPI
) -> Iterator[Served]:
    yield from serve_for_module(tmp_path_factory, shared_api, "--max-processes", "4")


@pytest.fixture
async def client(served: Served) -> Any:
    async with served.client() as http:
        yield http


async def receive_until(socket: ClientConnection, kind: str) -> list[dict[str, Any]]:
    events = []
    while True:
        event = json.loads(await socket.recv())
        events.append(event)
        if event["type"] in (kind, "result"):
            return events


async def test_sse_streams_deltas_before_the_turn_ends_and_a_follow_up_keeps_context(
    client: httpx.AsyncClient,
) -> None:
    events: list[dict[str, Any]] = []
    busy_at_first_delta = None
    body = {"message": "SLOW 6"}
    async with client.stream("POST", "/v1/chat/stream", json=body, headers=ALICE) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        async for event in sse_events(response):
            if event["type"] == "content_block_delta" and busy_at_first_delta is None:
                busy_at_first_delta = (await client.get("/healthz")).json()["busy"]
            events.append(event)
    assert busy_at_first_delta == 1  # the turn was still running when its first delta came
    assert events[0]["type"] == "session" and events[-1]["type"] == "result"
    session_id = events[0]["session_id"]
    assert text_of(events) == "".join(f"slow{i} " for i in range(6))
    result = events[-1]
    assert result["session_id"] == session_id and not result["is_error"]
    assert set(result) >= {"usage", "cost_usd", "time_to_first_token_s", "duration_s", "model"}

    again = await stream_turn(client, ALICE, message="RECALL", session_id=session_id)
    assert again[0] == {"type": "session", "session_id": session_id, "model": result["model"]}
    assert "You said before: [SLOW 6] (end)" in text_of(again)

    answer = (
        await client.post(
            "/v1/chat", json={"message": "RECALL", "session_id": session_id}, headers=ALICE
        )
    ).json()
    assert answer["session_id"] == session_id and answer["error"] is None
    assert answer["answer"] == "You said before: [SLOW 6 | RECALL] (end)"

    listed = (await client.get("/v1/sessions", headers=ALICE)).json()["sessions"]
    assert listed[0]["session_id"] == session_id and listed[0]["turns"] == 3
    saved = (await client.get(f"/v1/sessions/{session_id}", headers=ALICE)).json()
    assert saved["format"] == "claude-chat-transcript/1"
    assert [t["user"] for t in saved["turns"]] == ["SLOW 6", "RECALL", "RECALL"]


async def test_websocket_interrupt_then_the_next_turn_in_the_same_session(served: Served) -> None:
    async with connect(served.ws_url, additional_headers=ALICE) as socket:
        await socket.send(json.dumps({"type": "message", "text": "SLOW 40"}))
        session = json.loads(await socket.recv())
        assert session["type"] == "session"
        first = json.loads(await socket.recv())
        assert first["type"] == "content_block_delta"
        await socket.send(json.dumps({"type": "interrupt"}))
        events = await receive_until(socket, "result")
        assert events[-1]["interrupted"] is True and events[-1]["is_error"] is False
        assert len([e for e in events if e["type"] == "content_block_delta"]) < 39

        await socket.send(json.dumps({"type": "message", "text": "RECALL"}))
        events = await receive_until(socket, "result")
        assert events[0]["session_id"] == session["session_id"]
        assert "You said before: [SLOW 40] (end)" in text_of(events)


async def test_a_permission_request_is_answered_over_the_socket(
    served: Served, tmp_path: Path
) -> None:
    allowed, denied = tmp_path / "allowed", tmp_path / "denied"
    # A browser's way in: the key in a first message rather than a header.
    async with connect(served.ws_url) as socket:
        await socket.send(json.dumps({"type": "auth", "key": "bob-server-key"}))
        await socket.send(json.dumps({"type": "message", "text": f"TOOL touch {allowed}"}))
        events = await receive_until(socket, "permission_request")
        request = events[-1]
        assert request["type"] == "permission_request" and request["tool"] == "Bash"
        assert request["input"]["command"] == f"touch {allowed}"
        await socket.send(json.dumps({"type": "permission", "id": request["id"], "allow": True}))
        events = await receive_until(socket, "result")
        assert allowed.exists() and not events[-1]["is_error"]

        await socket.send(json.dumps({"type": "message", "text": f"TOOL touch {denied}"}))
        request = (await receive_until(socket, "permission_request"))[-1]
        await socket.send(
            json.dumps({"type": "permission", "id": request["id"], "allow": False, "message": "no"})
        )
        events = await receive_until(socket, "result")
        assert not denied.exists()
        refused = [e for e in events if e["type"] == "permission_denied"]
        assert refused and refused[0]["reason"] == "no"


async def test_over_sse_nobody_can_answer_a_permission_prompt(
    client: httpx.AsyncClient, tmp_path: Path
) -> None:
    target = tmp_path / "never"
    events = await stream_turn(client, BOB, message=f"TOOL touch {target}")
    assert not target.exists()
    assert any(e["type"] == "permission_denied" for e in events)


async def test_credentials_of_the_request_or_the_tenant_replace_the_servers(
    client: httpx.AsyncClient, shared_api: FakeAnthropicAPI
) -> None:
    await client.post("/v1/chat", json={"message": "server env"}, headers=ALICE)
    key = {"X-Anthropic-Api-Key": "sk-request-key-not-a-credential"}
    await client.post("/v1/chat", json={"message": "request key"}, headers={**ALICE, **key})
    token = {"X-Claude-Code-OAuth-Token": "request-oauth-not-a-credential"}
    await client.post("/v1/chat", json={"message": "request token"}, headers={**ALICE, **token})
    await client.post("/v1/chat", json={"message": "tenant token"}, headers=CAROL)
    sent = {
        r.last_user_text: (r.headers.get("x-api-key"), r.headers.get("authorization"))
        for r in shared_api.message_requests()
    }
    assert sent["server env"] == (SERVER_ENV_KEY, None)
    assert sent["request key"] == ("sk-request-key-not-a-credential", None)
    assert sent["request token"] == (None, "Bearer request-oauth-not-a-credential")
    assert sent["tenant token"] == (None, "Bearer carol-tenant-oauth-not-a-credential")
    both = await client.post("/v1/chat", json={"message": "x"}, headers={**ALICE, **key, **token})
    assert both.status_code == 400


async def test_a_tenant_never_sees_another_tenants_sessions(
    client: httpx.AsyncClient, served: Served
) -> None:
    answer = (await client.post("/v1/chat", json={"message": "alice only"}, headers=ALICE)).json()
    alices = answer["session_id"]
    assert (served.config_dir("alice") / "projects").is_dir()
    bobs = [
        s["session_id"] for s in (await client.get("/v1/sessions", headers=BOB)).json()["sessions"]
    ]
    assert alices not in bobs
    for method, path in (("GET", f"/v1/sessions/{alices}"), ("DELETE", f"/v1/sessions/{alices}")):
        response = await client.request(method, path, headers=BOB)
        assert response.status_code == 404
        assert response.json()["error"]["type"] == "not_found_error"
    resumed = await client.post(
        "/v1/chat/stream", json={"message": "RECALL", "session_id": alices}, headers=BOB
    )
    assert resumed.status_code == 404
    # Still there for its owner, who can delete it.
    assert (await client.get(f"/v1/sessions/{alices}", headers=ALICE)).status_code == 200
    deleted = await client.delete(f"/v1/sessions/{alices}", headers=ALICE)
    assert deleted.status_code == 200
    assert (await client.get(f"/v1/sessions/{alices}", headers=ALICE)).status_code == 404


async def test_keys_are_checked_on_every_endpoint(
    client: httpx.AsyncClient, served: Served
) -> None:
    wrong = {"Authorization": "Bearer not-a-key"}
    for method, path, body in (
        ("POST", "/v1/chat/stream", {"message": "x"}),
        ("POST", "/v1/chat", {"message": "x"}),
        ("GET", "/v1/sessions", None),
    ):
        for headers in ({}, wrong):
            response = await client.request(method, path, json=body, headers=headers)
            assert response.status_code == 401
            assert response.json()["error"]["type"] == "authentication_error"
    assert (await client.get("/healthz")).json()["status"] == "ok"
    assert (await client.get("/docs")).status_code == 200
    async with connect(served.ws_url, additional_headers=wrong) as socket:
        refusal = json.loads(await socket.recv())
        assert refusal["type"] == "error" and refusal["status"] == 401
        await socket.wait_closed()
        assert socket.close_code == 1008


async def test_bad_input_is_a_json_error_and_the_server_goes_on(
    client: httpx.AsyncClient, shared_api: FakeAnthropicAPI
) -> None:
    def error(response: httpx.Response, status: int) -> str:
        assert response.status_code == status, response.text
        message = response.json()["error"]["message"]
        assert isinstance(message, str) and "Traceback" not in message
        return message

    headers = {**ALICE, "content-type": "application/json"}
    post = client.post
    assert "malformed JSON" in error(
        await post("/v1/chat", content=b'{"mess', headers=headers), 400
    )
    assert "message" in error(await post("/v1/chat", json={"text": "x"}, headers=ALICE), 400)
    assert "message" in error(await post("/v1/chat", json={"message": 3}, headers=ALICE), 400)
    assert "session_id" in error(
        await post("/v1/chat", json={"message": "x", "session_id": "abc"}, headers=ALICE), 400
    )
    assert "session_id" in error(await client.get("/v1/sessions/not-a-uuid", headers=ALICE), 400)
    unknown = "00000000-0000-4000-8000-000000000000"
    error(await post("/v1/chat/stream", json={"message": "x", "session_id": unknown},
                     headers=ALICE), 404)  # fmt: skip
    error(await client.get(f"/v1/sessions/{unknown}", headers=ALICE), 404)
    big = json.dumps({"message": "a" * (1024 * 1024 + 10)}).encode()
    error(await post("/v1/chat", content=big, headers=headers), 413)

    async def chunked() -> Any:
        for _ in range(17):
            yield b"a" * 65536

    error(await post("/v1/chat", content=chunked(), headers=headers), 413)

    # An unknown model: the error Claude Code gives, as an error event.
    shared_api.enqueue(HTTPError(404, "not_found_error", "model: no-such-model"))
    events = await stream_turn(client, ALICE, message="hi", model="no-such-model")
    assert [e for e in events if e["type"] == "error"]
    assert events[-1]["type"] == "result" and events[-1]["is_error"]

    async with connect(_ws(client), additional_headers=ALICE) as socket:
        for bad, status in (
            ("{not json", 400),
            ('{"type": "message"}', 400),
            ('{"type": "message", "text": "x", "session_id": "abc"}', 400),
            ('{"type": "teleport"}', 400),
            ('{"type": "permission", "id": "nope", "allow": true}', 404),
        ):
            await socket.send(bad)
            refusal = json.loads(await socket.recv())
            assert refusal["type"] == "error" and refusal["status"] == status, (bad, refusal)
        await socket.send(json.dumps({"type": "message", "text": "still here"}))
        events = await receive_until(socket, "result")
        assert text_of(events).startswith("Echo: still here")
    assert (await post("/v1/chat", json={"message": "fine"}, headers=ALICE)).status_code == 200


def _ws(client: httpx.AsyncClient) -> str:
    return str(client.base_url).replace("http://", "ws://").rstrip("/") + "/v1/chat/ws"


async def test_a_tenant_over_its_limit_gets_429_and_a_busy_session_409(
    client: httpx.AsyncClient, served: Served
) -> None:
    # carol may run one turn at a time.
    async with client.stream(
        "POST", "/v1/chat/stream", json={"message": "SLOW 8"}, headers=CAROL
    ) as response:
        events = sse_events(response)
        session = await anext(events)
        second = await client.post("/v1/chat", json={"message": "x"}, headers=CAROL)
        assert second.status_code == 429 and int(second.headers["retry-after"]) >= 1
        assert second.json()["error"]["type"] == "rate_limit_error"
        # Over the socket too, with when to try again, and the socket goes on.
        async with connect(served.ws_url, additional_headers=CAROL) as socket:
            await socket.send(json.dumps({"type": "message", "text": "x"}))
            refusal = json.loads(await socket.recv())
            assert refusal["type"] == "error" and refusal["status"] == 429
            assert refusal["retry_after"] >= 1
        same = await client.post(
            "/v1/chat", json={"message": "x", "session_id": session["session_id"]}, headers=CAROL
        )
        assert same.status_code == 409
        async for _ in events:
            pass
    assert (await client.post("/v1/chat", json={"message": "x"}, headers=CAROL)).status_code == 200
    # What the alert rules on refusals read.
    assert 'claude_chat_rejections_total{status="429"}' in (await client.get("/metrics")).text


async def test_metrics_count_turns_tokens_and_processes(client: httpx.AsyncClient) -> None:
    await client.post("/v1/chat", json={"message": "count me"}, headers=ALICE)
    text = (await client.get("/metrics")).text
    for name in (
        "claude_chat_time_to_first_token_seconds_bucket",
        "claude_chat_turn_duration_seconds_bucket",
        'claude_chat_turns_total{outcome="ok",tenant="alice"}',
        'claude_chat_tokens_total{direction="output",tenant="alice"}',
        'claude_chat_cost_usd_total{tenant="alice"}',
        'claude_chat_processes{state="live"}',
        "claude_chat_queue_wait_seconds_bucket",
        'claude_chat_process_starts_total{reason="new"}',
    ):
        assert name in text, name
    assert 'claude_chat_time_to_first_token_seconds_bucket{le="300.0"}' in text


async def test_a_client_that_disconnects_interrupts_its_turn(
    client: httpx.AsyncClient, served: Served
) -> None:
    async with client.stream(
        "POST", "/v1/chat/stream", json={"message": "SLOW 60"}, headers=BOB
    ) as response:
        events = sse_events(response)
        session = await anext(events)
        assert (await anext(events))["type"] == "content_block_delta"
    # The server notices the disconnect on its own time (409 until then); the rest of the turn
    # is swallowed and the next one starts when it has wound down.
    for _ in range(300):
        answer = await client.post(
            "/v1/chat",
            json={"message": "RECALL", "session_id": session["session_id"]},
            headers=BOB,
        )
        if answer.status_code != 409:
            break
        await asyncio.sleep(0.05)
    assert answer.status_code == 200
    assert answer.json()["answer"].startswith("You said before: [SLOW 60")
