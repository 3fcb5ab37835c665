"""Several ``claude-chat serve --redis`` nodes on 127.0.0.1 sharing one real redis-server,
each with a data dir of its own, the real CLI and the stand-in API: a session moves between
nodes with its context, survives its owner's death, and has one owner at a time."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.fake_api import FakeAnthropicAPI
from tests.redis_server import RedisServer, free_port
from tests.serving import ALICE, CAROL, Served, server_env, sse_events, stream_turn, text_of
from tests.terminal import processes_with_env

pytestmark = pytest.mark.integration

LEASE_TTL = "3"


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis")
    try:
        yield server
    finally:
        server.stop()


class Cluster:
    """Nodes started and stopped by a test; every Claude Code process of theirs ended."""

    def __init__(self, root: Path, api: FakeAnthropicAPI, redis: RedisServer) -> None:
        self.root = root
        self.api = api
        self.redis = redis
        self.project = root / "shared-project"  # the same cwd on every node
        self.project.mkdir(parents=True, exist_ok=True)
        self.nodes: list[Served] = []

    def start(self, name: str, *args: str) -> Served:
        root = self.root / f"node-{name}-{len(self.nodes)}"
        node = Served(
            root, server_env(root, self.api), "--cwd", str(self.project),
            "--redis", self.redis.url, "--node-id", name, "--lease-ttl", LEASE_TTL, *args,
        )  # fmt: skip
        self.nodes.append(node)
        return node

    @staticmethod
    def marker(node: Served) -> str:
        return f"HOME={node.root / 'home'}\0"

    def kill(self, node: Served) -> None:
        """SIGKILL the node, then its Claude Code processes (orphans a crash would leave)."""
        node.process.send_signal(signal.SIGKILL)
        node.process.wait(30)
        for pid in processes_with_env(self.marker(node)):
            os.kill(pid, signal.SIGKILL)

    def close(self) -> None:
        for node in self.nodes:
            if node.process.poll() is None:
                node.stop()
            for pid in processes_with_env(self.marker(node)):
                os.kill(pid, signal.SIGKILL)


@pytest.fixture
def cluster(tmp_path: Path, api: FakeAnthropicAPI, redis_server: RedisServer) -> Iterator[Cluster]:
    nodes = Cluster(tmp_path, api, redis_server)
    try:
        yield nodes
    finally:
        nodes.close()


async def metric(node: Served, name: str) -> float:
    async with node.client() as http:
        text = (await http.get("/metrics")).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith(name) and not line.startswith("#")
    )


async def test_a_conversation_started_on_a_goes_on_through_b_with_its_context(
    cluster: Cluster,
) -> None:
    a, b = cluster.start("a"), cluster.start("b")
    async with a.client() as on_a, b.client() as on_b:
        first = await stream_turn(on_a, ALICE, message="hello from a")
        session_id = first[0]["session_id"]
        # A owns the session (its process is live): B forwards the turn to A.
        second = await stream_turn(on_b, ALICE, message="RECALL", session_id=session_id)
        assert second[0]["session_id"] == session_id
        assert "You said before: [hello from a] (end)" in text_of(second)
        assert await metric(b, "claude_chat_forwarded_requests_total") == 1
        answer = (
            await on_b.post(
                "/v1/chat", json={"message": "RECALL", "session_id": session_id}, headers=ALICE
            )
        ).json()
        assert answer["answer"] == "You said before: [hello from a | RECALL] (end)"
    assert a.stop() == 0, a.stderr()  # lets go of its lease
    async with b.client() as on_b:
        # Nobody owns it now: B takes the lease and resumes the session from Redis.
        third = await stream_turn(on_b, ALICE, message="RECALL", session_id=session_id)
        assert "You said before: [hello from a | RECALL | RECALL] (end)" in text_of(third)
        assert await metric(b, "claude_chat_forwarded_requests_total") == 2
        assert await metric(b, 'claude_chat_lease_claims_total{kind="resume"') == 1
        # Another tenant's key finds nothing, on either node.
        other = await on_b.post(
            "/v1/chat",
            json={"message": "RECALL", "session_id": session_id},
            headers={"Authorization": "Bearer bob-server-key"},
        )
        assert other.status_code == 404
        # The session endpoints read through the store too.
        listed = (await on_b.get("/v1/sessions", headers=ALICE)).json()["sessions"]
        assert [(s["session_id"], s["turns"]) for s in listed] == [(session_id, 4)]
        saved = (await on_b.get(f"/v1/sessions/{session_id}", headers=ALICE)).json()
        assert [t["user"] for t in saved["turns"]] == ["hello from a", "RECALL", "RECALL", "RECALL"]
        deleted = await on_b.delete(f"/v1/sessions/{session_id}", headers=ALICE)
        assert deleted.status_code == 200, deleted.text
        assert (await on_b.get("/v1/sessions", headers=ALICE)).json()["sessions"] == []
        gone = await on_b.post("/v1/chat", json={"message": "x", "session_id": session_id},
                               headers=ALICE)  # fmt: skip
        assert gone.status_code == 404
    # B never had a file of its own for the session: it resumed from Redis.
    assert not list(b.config_dir("alice").glob(f"projects/*/{session_id}.jsonl"))


async def test_b_takes_over_when_a_is_killed_mid_answer(cluster: Cluster) -> None:
    a, b = cluster.start("a"), cluster.start("b")
    async with a.client() as on_a:
        first = await stream_turn(on_a, ALICE, message="remember this")
        session_id = first[0]["session_id"]
        body = {"message": "SLOW 40", "session_id": session_id}
        async with on_a.stream("POST", "/v1/chat/stream", json=body, headers=ALICE) as response:
            async for event in sse_events(response):
                if event["type"] == "content_block_delta":
                    break
            cluster.kill(a)
    async with b.client(timeout=60) as on_b:
        # Within the lease's expiry and a few seconds: B waits for A, then takes over.
        events = await stream_turn(on_b, ALICE, message="RECALL", session_id=session_id)
    assert events[0]["session_id"] == session_id
    # The interrupted turn never completed: the context is the last complete turn's.
    assert "You said before: [remember this] (end)" in text_of(events)
    assert await metric(b, 'claude_chat_lease_claims_total{kind="resume"') == 1


async def test_redis_away_nodes_keep_what_they_own_and_refuse_the_rest(
    cluster: Cluster,
) -> None:
    a, b = cluster.start("a"), cluster.start("b")
    async with a.client() as on_a, b.client() as on_b:
        owned = (await stream_turn(on_a, ALICE, message="kept on a"))[0]["session_id"]
        cluster.redis.stop()
        again = await stream_turn(on_a, ALICE, message="RECALL", session_id=owned)
        assert "You said before: [kept on a] (end)" in text_of(again)
        refused = await on_b.post("/v1/chat", json={"message": "hi"}, headers=ALICE)
        assert refused.status_code == 503, refused.text
        assert "Redis cannot be reached" in refused.json()["error"]["message"]
        assert refused.headers["retry-after"]
        await asyncio.sleep(float(LEASE_TTL))  # renewals fail meanwhile
        assert await metric(a, 'claude_chat_lease_renewals_total{node="a",outcome="error"}') > 0
        cluster.redis.start()
        fresh = await stream_turn(on_b, ALICE, message="after the outage")
        assert fresh[-1]["is_error"] is False
        # A still owns its session (renewed once Redis was back): B forwards to it.
        await asyncio.sleep(float(LEASE_TTL) / 2)
        through_b = await stream_turn(on_b, ALICE, message="RECALL", session_id=owned)
        assert "You said before: [kept on a | RECALL] (end)" in text_of(through_b)
        assert await metric(b, "claude_chat_forwarded_requests_total") == 1
    # The turn answered while Redis was away reached it afterwards: B resumes with it.
    assert a.stop() == 0, a.stderr()
    async with b.client() as on_b:
        resumed = await stream_turn(on_b, ALICE, message="RECALL", session_id=owned)
        assert "You said before: [kept on a | RECALL | RECALL] (end)" in text_of(resumed)


def stored_prompts(redis: RedisServer, session_id: str) -> list[str]:
    """The user's prompts in the session as Redis holds it, in order."""
    import redis as redis_py

    client = redis_py.Redis.from_url(redis.url)
    try:
        [key] = client.keys(f"claude-chat:alice:e:*/{session_id}")
        entries = [json.loads(raw) for raw in client.lrange(key, 0, -1)]
    finally:
        client.close()
    prompts = []
    for entry in entries:
        if entry.get("type") != "user" or entry.get("isMeta"):
            continue
        content = entry.get("message", {}).get("content")
        if isinstance(content, list):
            content = "".join(b.get("text", "") for b in content if b.get("type") == "text")
        if isinstance(content, str) and content.startswith("turn "):
            prompts.append(content)
    return prompts


# The 50 rounds: about 7 s on 2 idle cores, a few times that on a loaded machine.
ROUNDS = 50


async def test_the_same_session_on_a_and_b_at_once_runs_one_turn_at_a_time(
    cluster: Cluster,
) -> None:
    a, b = cluster.start("a"), cluster.start("b")
    async with a.client() as on_a, b.client() as on_b:
        session_id = (await stream_turn(on_a, ALICE, message="turn 0"))[0]["session_id"]
        # Each round's answered prompts; two when one request waited for the other.
        rounds: list[set[str]] = [{"turn 0"}]
        for round_ in range(1, ROUNDS + 1):
            sent = {on_a: f"turn {round_} via a", on_b: f"turn {round_} via b"}
            replies = await asyncio.gather(
                *(
                    http.post("/v1/chat", json={"message": text, "session_id": session_id},
                              headers=ALICE)
                    for http, text in sent.items()
                )
            )  # fmt: skip
            ok = set()
            for reply, text in zip(replies, sent.values(), strict=True):
                if reply.status_code == 409:
                    assert "still running" in reply.json()["error"]["message"]
                else:
                    assert reply.status_code == 200, reply.text
                    ok.add(text)
            assert ok
            rounds.append(ok)
    prompts = stored_prompts(cluster.redis, session_id)
    at = 0
    for ok in rounds:
        assert set(prompts[at : at + len(ok)]) == ok, (prompts, rounds)
        at += len(ok)
    assert at == len(prompts)  # every turn once, in order


HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
DEPLOY = Path(__file__).resolve().parent.parent / "deploy"


def start_haproxy(ports: list[int], log: Path) -> tuple[subprocess.Popen[bytes], int]:
    """HAProxy with the shipped configuration in front of the nodes on ``ports``."""
    if not Path(HAPROXY).exists():
        pytest.skip("haproxy is not installed (Debian's haproxy package)")
    port = free_port()
    env = {
        **os.environ,
        "CLAUDE_CHAT_PROXY_BIND": f"127.0.0.1:{port}",
        "CLAUDE_CHAT_NODE1": f"127.0.0.1:{ports[0]}",
        "CLAUDE_CHAT_NODE2": f"127.0.0.1:{ports[1]}",
    }
    with log.open("wb") as stderr:
        proxy = subprocess.Popen(
            [HAPROXY, "-db", "-f", str(DEPLOY / "haproxy.cfg")],
            env=env, stdout=subprocess.DEVNULL, stderr=stderr,
        )  # fmt: skip
    return proxy, port


async def test_through_haproxy_a_client_sees_one_conversation_while_a_node_is_replaced(
    cluster: Cluster, tmp_path: Path
) -> None:
    ports = [free_port(), free_port()]
    nodes = {
        f"node{i}": cluster.start(f"node{i}", "--port", str(port))
        for i, port in enumerate(ports, start=1)
    }
    proxy, proxy_port = start_haproxy(ports, tmp_path / "haproxy.log")
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{proxy_port}", timeout=60
        ) as client:
            for _ in range(200):
                with contextlib.suppress(httpx.TransportError):
                    if (await client.get("/healthz")).status_code == 200:
                        break
                await asyncio.sleep(0.05)
            said = ["first"]
            session_id = (await stream_turn(client, ALICE, message="first"))[0]["session_id"]

            async def recall() -> None:
                events = await stream_turn(client, ALICE, message="RECALL", session_id=session_id)
                assert events[0]["session_id"] == session_id
                assert f"You said before: [{' | '.join(said)}] (end)" in text_of(events)
                said.append("RECALL")

            await recall()
            [owner] = [name for name, node in nodes.items() if await leases(node)]
            assert nodes[owner].stop() == 0, nodes[owner].stderr()  # taken out...
            await recall()  # ...the other node goes on with the session
            port = ports[int(owner[-1]) - 1]
            nodes[owner] = cluster.start(owner, "--port", str(port))  # ...and replaced
            for _ in range(3):
                await recall()
    finally:
        proxy.terminate()
        proxy.wait(10)


async def leases(node: Served) -> float:
    return await metric(node, "claude_chat_leases{")


async def test_a_websocket_on_b_relays_turns_of_a_session_a_owns(cluster: Cluster) -> None:
    from websockets.asyncio.client import connect

    a, b = cluster.start("a"), cluster.start("b")
    async with a.client() as on_a:
        session_id = (await stream_turn(on_a, ALICE, message="said on a"))[0]["session_id"]
    async with connect(b.ws_url, additional_headers=ALICE) as socket:

        async def turn(text: str, interrupt: bool = False) -> list[dict[str, object]]:
            await socket.send(json.dumps({"type": "message", "text": text,
                                          "session_id": session_id}))  # fmt: skip
            events = []
            while True:
                event = json.loads(await socket.recv())
                events.append(event)
                if interrupt and event["type"] == "content_block_delta":
                    interrupt = False
                    await socket.send(json.dumps({"type": "interrupt"}))
                if event["type"] == "result":
                    return events

        recalled = await turn("RECALL")
        assert recalled[0] == {"type": "session", "session_id": session_id,
                               "model": recalled[-1]["model"]}  # fmt: skip
        assert "You said before: [said on a] (end)" in text_of(recalled)
        stopped = await turn("SLOW 40", interrupt=True)
        assert stopped[-1]["interrupted"] is True
        assert len([e for e in stopped if e["type"] == "content_block_delta"]) < 39
        again = await turn("RECALL")
        assert "You said before: [said on a | RECALL | SLOW 40] (end)" in text_of(again)
    assert await metric(b, "claude_chat_forwarded_requests_total") == 3


async def test_a_tenants_max_concurrent_holds_across_nodes(cluster: Cluster) -> None:
    a, b = cluster.start("a"), cluster.start("b")
    async with a.client() as on_a, b.client() as on_b:
        # carol may run one turn at a time, on all nodes together.
        body = {"message": "SLOW 8"}
        async with on_a.stream("POST", "/v1/chat/stream", json=body, headers=CAROL) as response:
            events = sse_events(response)
            assert (await anext(events))["type"] == "session"
            elsewhere = await on_b.post("/v1/chat", json={"message": "x"}, headers=CAROL)
            assert elsewhere.status_code == 429, elsewhere.text
            assert "on all nodes" in elsewhere.json()["error"]["message"]
            assert int(elsewhere.headers["retry-after"]) >= 1
            async for _ in events:
                pass
        after = await on_b.post("/v1/chat", json={"message": "x"}, headers=CAROL)
        assert after.status_code == 200, after.text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--redis", "notaurl:secret"], "--redis takes a URL of redis://"),
        (["--redis", "redis://127.0.0.1:1/0", "--node-id", "a b"], "one word each"),
        (["--redis", "redis://127.0.0.1:1/0", "--lease-ttl", "0"], "--lease-ttl must be"),
    ],
)
def test_bad_cluster_options_are_one_line(args: list[str], message: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "claude_chat", "serve", "--port", "0", *args],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2, done
    assert message in done.stderr and "Traceback" not in done.stderr
    assert "secret" not in done.stderr


async def test_a_permission_request_of_a_relayed_turn_is_answered_through_b(
    cluster: Cluster, tmp_path: Path
) -> None:
    from websockets.asyncio.client import connect

    a, b = cluster.start("a"), cluster.start("b")
    async with a.client() as on_a:
        session_id = (await stream_turn(on_a, ALICE, message="hello"))[0]["session_id"]
    allowed = tmp_path / "allowed-through-b"
    async with connect(b.ws_url) as socket:  # a browser: its key in the first message
        await socket.send(json.dumps({"type": "auth", "key": "alice-server-key"}))
        await socket.send(json.dumps({"type": "message", "text": f"TOOL touch {allowed}",
                                      "session_id": session_id}))  # fmt: skip
        while (request := json.loads(await socket.recv()))["type"] != "permission_request":
            assert request["type"] != "result", request
        assert request["tool"] == "Bash" and request["input"]["command"] == f"touch {allowed}"
        await socket.send(json.dumps({"type": "permission", "id": request["id"], "allow": True}))
        while (event := json.loads(await socket.recv()))["type"] != "result":
            pass
        assert not event["is_error"] and event["session_id"] == session_id
    assert allowed.exists()
    assert await metric(b, "claude_chat_forwarded_requests_total") == 1
