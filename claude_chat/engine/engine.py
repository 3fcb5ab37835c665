"""One long-lived Claude Code process, driven through ``claude_agent_sdk``; what it says
reaches the engine as our own types (``translate.py`` is the edge).

The SDK is imported and the CLI started in the background, so the prompt is on screen before
either is ready and the first turn only waits for what is left of the start-up. Every turn goes
to the same process. If the process dies, the next turn starts a new one resuming the session.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from claude_chat.engine.config import ChatConfig, ChatSettings, PermissionMode
from claude_chat.engine.errors import (
    ChatError,
    CLINotFoundError,
    CLIStartError,
    CommandError,
    EngineClosedError,
    TurnInProgressError,
)
from claude_chat.engine.events import (
    Compacted,
    Event,
    PermissionDecision,
    PermissionDenied,
    PermissionRequest,
    SessionStarted,
    TextDelta,
    ThinkingDelta,
    ToolCall,
    TurnEnd,
    TurnError,
    TurnResult,
)
from claude_chat.engine.todos import TODO_TOOL, Todo, todos_from

if TYPE_CHECKING:
    from claude_agent_sdk import (
        ClaudeAgentOptions,
        ClaudeSDKClient,
        PermissionResult,
        ToolPermissionContext,
    )
    from claude_agent_sdk._internal.transport import Transport
    from claude_agent_sdk.types import SystemPromptPreset

    from claude_chat.engine.translate import Translator

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


@dataclass(frozen=True)
class ClaudeCommand:
    """A slash command Claude Code itself runs: a built-in, a command file, a skill."""

    name: str
    description: str
    argument_hint: str
    aliases: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


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
        # What the chat was started with; what it runs with now is ``settings``.
        self.config = config
        self.settings = ChatSettings.from_config(config)
        self._on_change = on_change
        # Tests replace the CLI process here, below the SDK's control protocol.
        self._transport_factory = transport_factory
        self.state: EngineState = "stopped"
        # What the running process says it runs in, when it differs from what was chosen.
        self._reported_mode: str | None = None
        self._reported_cwd: str | None = None
        self.cli_version: str | None = None
        self.cli_pid: int | None = None
        self.models: list[ModelChoice] = []
        # How full the context window is (tokens of the last API call's input side), the size
        # of the window, and Claude Code's task list: None until a turn of this conversation says.
        self.context_tokens: int | None = None
        self.context_window: int | None = None
        self.todos: tuple[Todo, ...] | None = None
        self.claude_commands: list[ClaudeCommand] = []
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
        self._clearing: asyncio.Task[None] | None = None  # Claude Code's /clear, running
        # The SDK's edge, loaded with the SDK in the background; a new translator per turn.
        self._translator_type: type[Translator] | None = None
        self._translator: Translator | None = None
        self._process_cost = 0.0
        self._stderr_tail: deque[str] = deque(maxlen=20)
        self._losses: list[float] = []  # when the process was lost, for giving up on restarts

    # -- what it runs with ------------------------------------------------------------------

    @property
    def session_id(self) -> str | None:
        return self.settings.session_id

    @property
    def model(self) -> str | None:
        return self.settings.model

    @property
    def permission_mode(self) -> str:
        return self._reported_mode or self.settings.permission_mode or "default"

    @property
    def cwd(self) -> str | None:
        return self._reported_cwd or (str(self.settings.cwd) if self.settings.cwd else None)

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
        self._translator_type = await asyncio.to_thread(_import_translator)
        from claude_agent_sdk import ClaudeSDKClient
        from claude_agent_sdk import CLINotFoundError as SDKCLINotFoundError

        transport = self._transport_factory() if self._transport_factory else None
        client = ClaudeSDKClient(self._options(resume), transport=transport)
        try:
            await client.connect()
        except SDKCLINotFoundError as exc:
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
        if self._translator is None:
            assert self._translator_type is not None
            self._translator = self._translator_type()
        self._read_server_info(info)
        self._reader = asyncio.get_running_loop().create_task(self._read_messages(client))
        self._set_state("ready")

    # -- sessions --------------------------------------------------------------------------

    async def new_conversation(self) -> None:
        """Start a new conversation in the same process, as Claude Code's own ``/clear`` does:
        Claude Code reports a new session and forgets the earlier context; nothing restarts.

        Returns at once: Claude Code clears in the background, and whatever needs it next (a
        message, a model switch) waits for that first.
        """
        if self.busy:
            raise TurnInProgressError("an answer is still streaming; wait for it or press Ctrl+C")
        await self._quiet()
        self.settings.session_id = None
        self._forget_conversation()
        if self.state not in ("stopped", "failed"):
            # (With no process, the next one starts a new session of its own.)
            self._clearing = asyncio.get_running_loop().create_task(self._clear())
        self._notify()

    async def _clear(self) -> None:
        try:
            async with contextlib.aclosing(self.send("/clear")) as events:
                async for _ in events:
                    pass
            # Claude Code counts the cost of the new conversation from zero.
            self._process_cost = 0.0
        except ChatError:
            # Closed meanwhile, or Claude Code could not start: the next message, if any,
            # starts a process in a new session and says what is wrong.
            pass
        finally:
            self._clearing = None
            self._notify()

    async def _quiet(self) -> None:
        """Wait for the engine's own work on the process (a /clear, the rest of an abandoned
        turn) to end, unless that is what is calling."""
        for task in (self._clearing, self._drain):
            if task is not None and task is not asyncio.current_task():
                await asyncio.wait([task])

    async def switch_session(self, session_id: str | None, cwd: Path | None = None) -> None:
        """Go on in another session (None: a new one): this process is closed and another
        resumes that session, in ``cwd`` when given. The model stays."""
        if self.busy:
            raise TurnInProgressError("an answer is still streaming; wait for it or press Ctrl+C")
        await self._quiet()
        await self._stop_process()
        if self.state == "closed":
            raise EngineClosedError("the chat engine is closed")
        self.settings.session_id = session_id
        if cwd is not None:
            self.settings.cwd = cwd
        self._reported_cwd = None
        self._forget_conversation()
        self._set_state("stopped")
        self.start()
        await self.wait_ready()

    def _forget_conversation(self) -> None:
        """What the engine knew of the conversation it leaves; the next turns tell again."""
        self.context_tokens = None
        self.context_window = None
        self.todos = None

    @property
    def context_percent(self) -> int | None:
        """How full the context window is, in percent, once a turn has said."""
        if self.context_tokens is None:
            return None
        window = self.context_window or known_context_window(self.model)
        return min(round(100 * self.context_tokens / window), 100)

    def _options(self, resume: str | None) -> ClaudeAgentOptions:
        from claude_agent_sdk import ClaudeAgentOptions

        config, settings = self.config, self.settings
        # Claude Code's own system prompt, as in Claude Code itself (the SDK's default is none).
        system_prompt: SystemPromptPreset = {"type": "preset", "preset": "claude_code"}
        if config.system_prompt_append:
            system_prompt["append"] = config.system_prompt_append
        return ClaudeAgentOptions(
            # The settings of the moment: a restart after a crash keeps what /model chose.
            model=settings.model,
            cwd=settings.cwd,
            cli_path=config.cli_path,
            permission_mode=settings.permission_mode,
            resume=resume,
            include_partial_messages=True,
            system_prompt=system_prompt,
            mcp_servers=dict(config.mcp_servers),
            agents=dict(config.agents) or None,
            max_buffer_size=config.max_line_bytes,
            env=config.cli_environment(),
            session_store=config.session_store,
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
            self._reported_mode = mode
        self.models = [
            ModelChoice(
                alias=str(entry.get("value", "")),
                resolved=str(entry.get("resolvedModel") or entry.get("value", "")),
                description=str(entry.get("description", "")),
            )
            for entry in info.get("models") or []
            if isinstance(entry, dict)
        ]
        self.claude_commands = [
            ClaudeCommand(
                name=str(entry["name"]),
                description=str(entry.get("description") or ""),
                argument_hint=str(entry.get("argumentHint") or ""),
                aliases=tuple(str(a) for a in entry.get("aliases") or () if a),
            )
            for entry in info.get("commands") or []
            # Names with a leading underscore are Claude Code's internal ones.
            if isinstance(entry, dict)
            and entry.get("name")
            and not str(entry["name"]).startswith("_")
        ]
        if self.settings.model is None:
            default = next((m for m in self.models if m.alias == "default"), None)
            self.settings.model = default.resolved if default else None
        else:
            self.settings.model = self.resolve_model(self.settings.model)

    async def close(self) -> None:
        """Close the CLI in bounded steps (the SDK's: EOF, wait, terminate, kill)."""
        self._set_state("closed")
        clearing = self._clearing
        await self._stop_process()
        if clearing is not None:  # its process is gone: nothing more comes to it
            clearing.cancel()
            await _settle(clearing)

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
        """Whether a turn the user sent is running (the engine's own /clear is not one)."""
        return self._turn is not None and self._clearing is None

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
        await self._quiet()
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
            assert client is not None and self._translator_type is not None
            self._translator = self._translator_type(local_command=text.lstrip().startswith("/"))
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
        reason = "Claude Code exited"
        try:
            async for message in client.receive_messages():
                self._dispatch(message)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            reason = f"Claude Code stopped: {exc}"
        if self._client is client:
            await self._process_lost(reason)

    def _dispatch(self, message: object) -> None:
        turn = self._turn
        translator = self._translator
        assert translator is not None
        end = translator.turn_end(message)
        if end is not None:
            if end.session_id:
                self.settings.session_id = end.session_id
            if end.context_tokens is not None:
                self.context_tokens = end.context_tokens
            if end.context_window is not None:
                self.context_window = end.context_window
            if turn is not None:
                turn.queue.put_nowait(self._turn_result(turn, end))
            return
        if turn is None:
            return  # between turns: replays and state changes the user need not see
        for event in translator.translate(message):
            if isinstance(event, SessionStarted):
                self.settings.session_id = event.session_id or self.settings.session_id
                self.settings.model = event.model or self.settings.model
                self._reported_cwd = event.cwd or self._reported_cwd
                self._reported_mode = event.permission_mode or self._reported_mode
                self._notify()
            elif isinstance(event, (TextDelta, ThinkingDelta, ToolCall)):
                if turn.first_token_at is None:
                    turn.first_token_at = time.monotonic()
                if isinstance(event, TextDelta) and event.parent_tool_use_id is None:
                    turn.answer_parts.append(event.text)
            elif isinstance(event, TurnError) and turn.error is None:
                turn.error = event
            elif isinstance(event, Compacted):
                event = replace(event, elapsed_s=time.monotonic() - turn.sent)
                if event.post_tokens is not None:
                    self.context_tokens = event.post_tokens
            if isinstance(event, ToolCall) and event.name == TODO_TOOL:
                todos = todos_from(event.input) if event.parent_tool_use_id is None else None
                if todos is not None:
                    self.todos = todos
            turn.queue.put_nowait(event)

    async def _can_use_tool(
        self, name: str, tool_input: dict[str, Any], context: ToolPermissionContext
    ) -> PermissionResult:
        """Claude Code's permission prompt, answered by the front (or denied without one)."""
        from claude_agent_sdk import PermissionResultAllow, PermissionResultDeny, PermissionUpdate
        from claude_agent_sdk.types import PermissionRuleValue

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
            return PermissionResultAllow()
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
                    PermissionUpdate(
                        type="addRules",
                        rules=[PermissionRuleValue(tool_name=name)],
                        behavior="allow",
                        destination="session",
                    )
                ]
            )
            return PermissionResultAllow(updated_permissions=rules)
        message = decision.message or "The user denied this tool call."
        if self._turn is not None:
            self._turn.queue.put_nowait(
                PermissionDenied(request.tool_use_id, name, request.input, message)
            )
        return PermissionResultDeny(message=message, interrupt=decision.interrupt)

    async def set_permission_mode(self, mode: PermissionMode) -> None:
        """Switch the permission mode of the running process; ChatError if it refuses."""
        await self._quiet()
        await self.wait_ready()
        assert self._client is not None
        try:
            await self._client.set_permission_mode(mode)
        except Exception as exc:
            hint = ""
            if mode == "bypassPermissions":
                hint = " (choose it at start: --permission-mode bypassPermissions; not as root)"
            raise CommandError(f"Claude Code refused permission mode {mode}: {exc}{hint}") from exc
        self.settings.permission_mode = mode
        self._reported_mode = None  # the process now runs in the chosen mode
        self._notify()

    def _turn_result(self, turn: _Turn, end: TurnEnd) -> TurnResult:
        """The one ``TurnResult`` of ``turn``, whichever way it ended."""
        total = end.process_cost_usd or 0.0
        cost = max(total - self._process_cost, 0.0)
        self._process_cost = max(total, self._process_cost)
        first_token = turn.first_token_at if end.finished else None
        return TurnResult(
            prompt=turn.prompt,
            session_id=end.session_id,
            model=end.model or self.model,
            is_error=end.is_error,
            interrupted=end.interrupted,
            usage=end.usage,
            cost_usd=cost,
            duration_s=time.monotonic() - turn.sent,
            time_to_first_token_s=first_token - turn.sent if first_token is not None else None,
            startup_wait_s=turn.started - turn.sent,
            error=(turn.error or end.error) if end.finished else end.error,
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
            end = TurnEnd(
                self.session_id, None, is_error=True, interrupted=False, error=error, finished=False
            )
            turn.queue.put_nowait(self._turn_result(turn, end))

    # -- control ---------------------------------------------------------------------------

    def resolve_model(self, name: str) -> str:
        for choice in self.models:
            if choice.alias == name:
                return choice.resolved
        return name

    async def set_model(self, name: str | None) -> str:
        """Switch the model of the running process; return the resolved model name."""
        await self._quiet()
        await self.wait_ready()
        assert self._client is not None
        await self._client.set_model(name)
        model = self.settings.model = self.resolve_model(name or "default")
        self._notify()
        return model

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


async def _settle(task: asyncio.Task[Any]) -> None:
    """Wait for ``task`` to finish, whatever its outcome, without swallowing a cancellation
    of the caller (SIGTERM ends the chat by cancelling it)."""
    await asyncio.wait([task])
    if not task.cancelled():
        task.exception()  # retrieved: no "exception was never retrieved" warning


def _import_translator() -> type[Translator]:
    """The translator class; importing it imports the SDK, which takes about a second."""
    from claude_chat.engine.translate import Translator

    return Translator


def known_context_window(model: str | None) -> int:
    """The context window of ``model`` when Claude Code has not said it: a million tokens for
    the long-context variants (``[1m]``), 200k for the others."""
    return 1_000_000 if model and "[1m]" in model.lower() else 200_000


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
