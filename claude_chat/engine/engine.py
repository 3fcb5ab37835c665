"""One long-lived Claude Code process, driven through ``claude_agent_sdk``: the only I/O seam.

The SDK is imported and the CLI started in the background, so the prompt is on screen before
either is ready and the first turn only waits for what is left of the start-up. Every turn goes
to the same process. If the process dies, the next turn starts a new one resuming the session.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import time
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal

from claude_chat.engine.config import ChatConfig, PermissionMode
from claude_chat.engine.errors import (
    ChatError,
    CLINotFoundError,
    CLIStartError,
    CommandError,
    EngineClosedError,
    TurnInProgressError,
)
from claude_chat.engine.events import (
    Event,
    PermissionDecision,
    PermissionDenied,
    PermissionRequest,
    SessionStarted,
    TextDelta,
    ThinkingDelta,
    ToolCall,
    TurnError,
    TurnResult,
)

if TYPE_CHECKING:
    from claude_agent_sdk import ClaudeSDKClient
    from claude_agent_sdk._internal.transport import Transport

EngineState = Literal["starting", "ready", "running", "failed", "stopped", "closed"]

NOBODY_TO_ASK = (
    "denied: nobody can answer a permission prompt here (not a terminal); "
    "allow it with --permission-mode or --allowed-tools"
)
# Losing the process this many times within the window stops the automatic restarts.
CRASHES_BEFORE_GIVING_UP = 3
CRASH_WINDOW_S = 60.0
# How long an interrupted turn may take to report its end before the process is given up on.
INTERRUPT_GRACE_S = 15.0


@dataclass(frozen=True)
class ModelChoice:
    alias: str
    resolved: str
    description: str


@dataclass
class _Turn:
    queue: asyncio.Queue[Event]
    # When the message was sent: what the user waits from. ``started`` is when it reached
    # Claude Code, later than that while the process is still starting.
    sent: float
    started: float
    prompt: str = ""
    first_token_at: float | None = None
    error: TurnError | None = None
    answer_parts: list[str] = field(default_factory=list)


class ChatEngine:
    def __init__(
        self,
        config: ChatConfig,
        on_change: Callable[[], None] | None = None,
        transport_factory: Callable[[], Transport] | None = None,
    ) -> None:
        self.config = config
        self._on_change = on_change
        # Tests replace the CLI process here, below the SDK's control protocol.
        self._transport_factory = transport_factory
        self.state: EngineState = "stopped"
        self.session_id: str | None = config.resume_session_id
        self.model: str | None = config.model
        self.permission_mode: str = config.permission_mode or "default"
        self.cwd: str | None = str(config.cwd) if config.cwd else None
        self.cli_version: str | None = None
        self.cli_pid: int | None = None
        self.models: list[ModelChoice] = []
        # How a tool call Claude Code asks about is decided: the front asks the user. With
        # none (piped mode), every such call is denied, with a line saying so.
        self.ask_permission: Callable[[PermissionRequest], Awaitable[PermissionDecision]] | None = (
            None
        )
        self.start_error: ChatError | None = None
        self._client: ClaudeSDKClient | None = None
        self._start_task: asyncio.Task[None] | None = None
        self._reader: asyncio.Task[None] | None = None
        self._turn: _Turn | None = None
        self._drain: asyncio.Task[None] | None = None
        self._translator: Any = None
        self._translate: ModuleType | None = None
        self._process_cost = 0.0
        self._stderr_tail: deque[str] = deque(maxlen=20)
        self._losses: list[float] = []  # when the process was lost, for giving up on restarts
        self._spare: asyncio.Task[tuple[ClaudeSDKClient, dict[str, Any]]] | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Begin importing the SDK and starting the CLI, without waiting for either."""
        if self.state == "closed":
            raise EngineClosedError("the chat engine is closed")
        if self.state in ("stopped", "failed"):
            self.start_error = None
            self._set_state("starting")
            self._start_task = asyncio.get_running_loop().create_task(self._start())

    async def wait_ready(self) -> None:
        if self.state in ("stopped", "failed"):
            self.start()
        if self._start_task is not None:
            await asyncio.shield(self._start_task)
        if self.start_error is not None:
            raise self.start_error

    async def _start(self) -> None:
        try:
            client, info = await self._connect(self.session_id)
            self._install(client, info)
        except ChatError as exc:
            self.start_error = exc
            self._set_state("failed")
        except Exception as exc:  # anything else from the SDK is still a failed start
            self.start_error = CLIStartError(f"Claude Code did not start: {exc}")
            self._set_state("failed")

    async def _connect(self, resume: str | None) -> tuple[ClaudeSDKClient, dict[str, Any]]:
        """A connected Claude Code process and what it says about itself."""
        # The SDK takes about a second to import (mostly ``mcp``); a worker thread keeps
        # the prompt responsive while it loads. This is the only code that leaves the loop.
        loop = asyncio.get_running_loop()
        translate = await loop.run_in_executor(
            None, importlib.import_module, "claude_chat.engine.translate"
        )
        sdk = importlib.import_module("claude_agent_sdk")
        self._translate = translate
        transport = self._transport_factory() if self._transport_factory else None
        client = sdk.ClaudeSDKClient(self._options(sdk, resume), transport=transport)
        try:
            await client.connect()
        except sdk.CLINotFoundError as exc:
            raise CLINotFoundError(
                "Claude Code CLI not found"
                + (f" at {self.config.cli_path}" if self.config.cli_path else "")
                + ": install claude-agent-sdk (it bundles the CLI) or pass --cli-path",
                path=str(self.config.cli_path or ""),
            ) from exc
        except Exception as exc:
            detail = self._stderr_tail[-1] if self._stderr_tail else str(exc)
            raise CLIStartError(
                f"Claude Code did not start: {detail}", stderr=list(self._stderr_tail)
            ) from exc
        try:
            info = await client.get_server_info() or {}
        except BaseException:
            with contextlib.suppress(Exception):
                await client.disconnect()
            raise
        return client, info

    def _install(self, client: ClaudeSDKClient, info: dict[str, Any]) -> None:
        self._client = client
        self._process_cost = 0.0
        self._read_server_info(info)
        self._reader = asyncio.get_running_loop().create_task(self._read_messages(client))
        self._set_state("ready")

    # -- sessions --------------------------------------------------------------------------

    def warm_spare(self) -> None:
        """Start a process for a fresh session in the background, so that a switch to a new
        session does not wait for Claude Code to start."""
        if self._spare is None and self.state not in ("closed", "failed"):
            self._spare = asyncio.get_running_loop().create_task(self._connect(None))

    async def switch_session(self, session_id: str | None, cwd: Path | None = None) -> None:
        """Go on in another session (None: a new one): this process is closed and another
        resumes that session, in ``cwd`` when given. The model stays."""
        if self.busy:
            raise TurnInProgressError("an answer is still streaming; wait for it or press Ctrl+C")
        await self._stop_process()
        if self.state == "closed":
            raise EngineClosedError("the chat engine is closed")
        self.config = replace(
            self.config,
            resume_session_id=session_id,
            cwd=cwd or self.config.cwd,
            model=self.model,
        )
        self.session_id = session_id
        self.cwd = str(self.config.cwd) if self.config.cwd else None
        spare, self._spare = self._spare, None
        if session_id is None and cwd is None and spare is not None:
            self._set_state("starting")
            try:
                client, info = await spare
            except Exception:
                self._set_state("stopped")  # start as usual below
            else:
                model = self.model
                self._install(client, info)
                if model and self.model != model:
                    await self.set_model(model)
                mode = self.config.permission_mode
                if mode and self.permission_mode != mode:
                    await self.set_permission_mode(mode)
                return
        elif spare is not None:
            await _discard(spare)
        self._set_state("stopped")
        self.start()
        await self.wait_ready()

    def _options(self, sdk: ModuleType, resume: str | None) -> Any:
        config = self.config
        return sdk.ClaudeAgentOptions(
            # The model of the moment: a restart after a crash keeps what /model chose.
            model=self.model,
            cwd=config.cwd,
            cli_path=config.cli_path,
            permission_mode=config.permission_mode,
            resume=resume,
            include_partial_messages=True,
            # Claude Code's own system prompt, as in Claude Code itself (the SDK's default is none).
            system_prompt={"type": "preset", "preset": "claude_code"}
            | ({"append": config.system_prompt_append} if config.system_prompt_append else {}),
            mcp_servers=dict(config.mcp_servers),
            agents=dict(config.agents) or None,
            max_buffer_size=config.max_line_bytes,
            env=config.cli_environment(),
            stderr=self._stderr_tail.append,
            can_use_tool=self._can_use_tool,
            allowed_tools=list(config.allowed_tools),
            disallowed_tools=list(config.disallowed_tools),
        )

    def _read_server_info(self, info: dict[str, Any]) -> None:
        self.cli_version = _str_or_none(info.get("claude_code_version"))
        pid = info.get("pid")
        self.cli_pid = pid if isinstance(pid, int) else None
        mode = info.get("current_permission_mode")
        if isinstance(mode, str):
            self.permission_mode = mode
        self.models = [
            ModelChoice(
                alias=str(entry.get("value", "")),
                resolved=str(entry.get("resolvedModel") or entry.get("value", "")),
                description=str(entry.get("description", "")),
            )
            for entry in info.get("models") or []
            if isinstance(entry, dict)
        ]
        if self.model is None:
            default = next((m for m in self.models if m.alias == "default"), None)
            self.model = default.resolved if default else None
        else:
            self.model = self.resolve_model(self.model)

    async def close(self) -> None:
        """Close the CLI in bounded steps (the SDK's: EOF, wait, terminate, kill)."""
        self._set_state("closed")
        spare, self._spare = self._spare, None
        if spare is not None:
            await _discard(spare)
        await self._stop_process()

    async def _stop_process(self) -> None:
        if self._start_task is not None and not self._start_task.done():
            self._start_task.cancel()
            await _settle(self._start_task)
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                await client.disconnect()
        reader, self._reader = self._reader, None
        # The reader itself stops here when it finds the process gone: it just returns.
        if reader is not None and reader is not asyncio.current_task():
            reader.cancel()
            await _settle(reader)

    # -- turns -----------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self._turn is not None

    async def send(
        self,
        text: str,
        sent_at: float | None = None,
        content: list[dict[str, Any]] | None = None,
    ) -> AsyncGenerator[Event, None]:
        """Send one user message; yield its events, ending with exactly one ``TurnResult``.

        ``content``, when given, is what Claude Code receives instead of ``text``: Messages API
        content blocks (text and images); ``text`` stays the turn's prompt in its result.

        The turn's times count from ``sent_at`` (``time.monotonic()``), when the user sent the
        message, if that was before this call (a later one counts as now). A caller that stops
        early must ``aclose()`` the iterator (``contextlib.aclosing``): the rest of the turn is
        then interrupted and swallowed, so none of it leaks.
        """
        if self._drain is not None:
            await self._drain
        if self._turn is not None:
            raise TurnInProgressError(
                "a turn is already running (iterate it to the end, or aclose() it)"
            )
        if self.state == "closed":
            raise EngineClosedError("the chat engine is closed")
        now = time.monotonic()
        turn = _Turn(asyncio.Queue(), min(sent_at, now) if sent_at is not None else now, now, text)
        self._turn = turn
        try:
            await self.wait_ready()
            client = self._client
            assert client is not None and self._translate is not None
            self._translator = self._translate.Translator()
            self._set_state("running")
            turn.started = time.monotonic()
            try:
                await client.query(text if content is None else _one_message(content))
            except Exception as exc:  # the process died since the last turn, unnoticed yet
                await self._process_lost(
                    f"Claude Code stopped before the message reached it: {exc}"
                )
            while True:
                event = await turn.queue.get()
                if isinstance(event, TurnResult):
                    self._end_turn()
                    yield event
                    return
                yield event
        finally:
            if self._turn is turn and self._client is not None and self.state == "running":
                # The caller stopped listening mid-turn: stop the turn and swallow the rest of
                # it, so none of it leaks into the next one.
                self._drain = asyncio.get_running_loop().create_task(self._drain_turn(turn))
            elif self._turn is turn:
                self._end_turn()

    def _end_turn(self) -> None:
        self._turn = None
        if self.state == "running":
            self._set_state("ready")

    async def _drain_turn(self, turn: _Turn) -> None:
        try:
            await self.interrupt()
            while not isinstance(await turn.queue.get(), TurnResult):
                pass
        finally:
            self._drain = None
            self._end_turn()

    async def interrupt(self) -> None:
        """Ask the CLI to stop the running turn; the turn still ends with its ``TurnResult``."""
        client = self._client
        if self._turn is None or client is None:
            return
        try:
            await asyncio.wait_for(client.interrupt(), INTERRUPT_GRACE_S)
        except Exception:
            # The CLI did not answer the interrupt: it is wedged. End the turn ourselves and
            # start over, resuming the session, on the next message.
            await self._process_lost("Claude Code did not respond to the interrupt")

    async def _read_messages(self, client: ClaudeSDKClient) -> None:
        translate = self._translate
        assert translate is not None
        reason = "Claude Code exited"
        try:
            async for message in client.receive_messages():
                self._dispatch(translate, message)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            reason = f"Claude Code stopped: {exc}"
        if self._client is client:
            await self._process_lost(reason)

    def _dispatch(self, translate: ModuleType, message: object) -> None:
        turn = self._turn
        if isinstance(message, translate.ResultMessage):
            if message.session_id:
                self.session_id = message.session_id
            if turn is not None:
                turn.queue.put_nowait(self._result(translate, turn, message))
            return
        translator = self._translator
        if turn is None or translator is None:
            return  # between turns: replays and state changes the user need not see
        for event in translator.translate(message):
            if isinstance(event, SessionStarted):
                self.session_id = event.session_id or self.session_id
                self.model = event.model or self.model
                self.cwd = event.cwd or self.cwd
                self.permission_mode = event.permission_mode or self.permission_mode
                self._notify()
            elif isinstance(event, (TextDelta, ThinkingDelta, ToolCall)):
                if turn.first_token_at is None:
                    turn.first_token_at = time.monotonic()
                if isinstance(event, TextDelta) and event.parent_tool_use_id is None:
                    turn.answer_parts.append(event.text)
            elif isinstance(event, TurnError) and turn.error is None:
                turn.error = event
            turn.queue.put_nowait(event)

    async def _can_use_tool(self, name: str, tool_input: dict[str, Any], context: Any) -> Any:
        """Claude Code's permission prompt, answered by the front (or denied without one)."""
        sdk = importlib.import_module("claude_agent_sdk")
        request = PermissionRequest(
            tool_use_id=context.tool_use_id,
            name=name,
            input=dict(tool_input),
            title=context.title,
            reason=context.decision_reason,
            suggestions=tuple(context.suggestions or ()),
        )
        if self.ask_permission is None:
            decision = PermissionDecision("deny", NOBODY_TO_ASK)
        else:
            try:
                decision = await self.ask_permission(request)
            except Exception as exc:  # a failed prompt must not leave Claude Code waiting
                decision = PermissionDecision("deny", f"the permission prompt failed: {exc}")
        if decision.choice == "once":
            return sdk.PermissionResultAllow()
        if decision.choice == "always":
            # Claude Code's suggestions may also switch the whole session to another mode
            # (acceptEdits); "always" means this kind of call, so rules win when there are any.
            narrow = [
                s
                for s in request.suggestions
                if getattr(s, "type", None) in ("addRules", "addDirectories")
            ]
            rules = (
                narrow
                or list(request.suggestions)
                or [
                    sdk.PermissionUpdate(
                        type="addRules",
                        rules=[sdk.PermissionRuleValue(tool_name=name)],
                        behavior="allow",
                        destination="session",
                    )
                ]
            )
            return sdk.PermissionResultAllow(updated_permissions=rules)
        message = decision.message or "The user denied this tool call."
        if self._turn is not None:
            self._turn.queue.put_nowait(
                PermissionDenied(request.tool_use_id, name, request.input, message)
            )
        return sdk.PermissionResultDeny(message=message, interrupt=decision.interrupt)

    async def set_permission_mode(self, mode: PermissionMode) -> None:
        """Switch the permission mode of the running process; ChatError if it refuses."""
        await self.wait_ready()
        assert self._client is not None
        try:
            await self._client.set_permission_mode(mode)
        except Exception as exc:
            hint = ""
            if mode == "bypassPermissions":
                hint = " (choose it at start: --permission-mode bypassPermissions; not as root)"
            raise CommandError(f"Claude Code refused permission mode {mode}: {exc}{hint}") from exc
        self.permission_mode = mode
        self.config = replace(self.config, permission_mode=mode)
        # A spare started before the change would bring the old mode to the next session.
        spare, self._spare = self._spare, None
        if spare is not None:
            await _discard(spare)
        self._notify()

    def _result(self, translate: ModuleType, turn: _Turn, message: Any) -> TurnResult:
        total = message.total_cost_usd or 0.0
        cost = max(total - self._process_cost, 0.0)
        self._process_cost = max(total, self._process_cost)
        model = self._translator.model if self._translator is not None else None
        interrupted = message.terminal_reason in ("aborted_streaming", "aborted_tools")
        return TurnResult(
            prompt=turn.prompt,
            session_id=message.session_id,
            model=model or self.model,
            is_error=bool(message.is_error) and not interrupted,
            interrupted=interrupted,
            usage=translate.usage_from(message),
            cost_usd=cost,
            duration_s=time.monotonic() - turn.sent,
            time_to_first_token_s=(
                turn.first_token_at - turn.sent if turn.first_token_at is not None else None
            ),
            startup_wait_s=turn.started - turn.sent,
            error=turn.error or translate.result_error(message),
            answer="".join(turn.answer_parts),
        )

    async def _process_lost(self, reason: str) -> None:
        """The CLI is gone or wedged: end the running turn with an error and start another
        process resuming the session at once, unless it keeps dying (then on the next send)."""
        turn = self._turn
        await self._stop_process()
        now = time.monotonic()
        self._losses = [t for t in self._losses if now - t < CRASH_WINDOW_S] + [now]
        if self.state != "closed":
            self._set_state("stopped")
            if len(self._losses) < CRASHES_BEFORE_GIVING_UP:
                reason += "; a new Claude Code process is resuming the session"
                self.start()
            else:
                reason += (
                    f"; it stopped {len(self._losses)} times within a minute, so it is not "
                    "restarted until you send again"
                )
        if turn is not None:
            error = TurnError("cli", reason)
            turn.queue.put_nowait(error)
            turn.queue.put_nowait(
                TurnResult(
                    prompt=turn.prompt,
                    session_id=self.session_id,
                    model=self.model,
                    is_error=True,
                    interrupted=False,
                    duration_s=time.monotonic() - turn.sent,
                    startup_wait_s=turn.started - turn.sent,
                    error=error,
                    answer="".join(turn.answer_parts),
                )
            )

    # -- control ---------------------------------------------------------------------------

    def resolve_model(self, name: str) -> str:
        for choice in self.models:
            if choice.alias == name:
                return choice.resolved
        return name

    async def set_model(self, name: str | None) -> str:
        """Switch the model of the running process; return the resolved model name."""
        await self.wait_ready()
        assert self._client is not None
        await self._client.set_model(name)
        self.model = self.resolve_model(name or "default")
        self._notify()
        return self.model

    # -- observers -------------------------------------------------------------------------

    def _set_state(self, state: EngineState) -> None:
        self.state = state
        self._notify()

    def _notify(self) -> None:
        if self._on_change is not None:
            self._on_change()


async def _one_message(content: list[dict[str, Any]]) -> AsyncIterator[dict[str, Any]]:
    """A user message of content blocks, in the form the SDK streams to Claude Code."""
    yield {
        "type": "user",
        "message": {"role": "user", "content": content},
        "parent_tool_use_id": None,
    }


async def _discard(spare: asyncio.Task[tuple[ClaudeSDKClient, dict[str, Any]]]) -> None:
    """Close a process that was started but is not wanted."""
    if not spare.done():
        spare.cancel()
    await _settle(spare)
    if spare.cancelled() or spare.exception() is not None:
        return
    client, _ = spare.result()
    with contextlib.suppress(Exception):
        await client.disconnect()


async def _settle(task: asyncio.Task[Any]) -> None:
    """Wait for ``task`` to finish, whatever its outcome, without swallowing a cancellation
    of the caller (SIGTERM ends the chat by cancelling it)."""
    await asyncio.wait([task])
    if not task.cancelled():
        task.exception()  # retrieved: no "exception was never retrieved" warning


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
