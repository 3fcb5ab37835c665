"""A tool call in one line of plain text: what every front and the transcripts show for it."""

from __future__ import annotations

import json
from typing import Any

from claude_chat.engine.events import ToolCall

# The argument that says what a tool call does, by tool.
_ESSENTIAL_ARGUMENT = {
    "Bash": "command",
    "Read": "file_path",
    "Write": "file_path",
    "Edit": "file_path",
    "MultiEdit": "file_path",
    "NotebookEdit": "notebook_path",
    "Grep": "pattern",
    "Glob": "pattern",
    "WebFetch": "url",
    "WebSearch": "query",
    "Task": "description",
    "Agent": "description",
    "Skill": "skill",
}


def one_line(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def compact_json(value: object, limit: int) -> str:
    return one_line(json.dumps(value, ensure_ascii=False, default=str), limit)


def tool_call_summary(call: ToolCall, width: int = 100) -> str:
    """``Tool(essential argument)``: the command, path, pattern or url; MCP tools as
    ``server · tool(compact JSON)``; anything else with its input as compact JSON."""
    name, arguments = call.name, call.input
    if name.startswith("mcp__"):
        _, server, tool = ([*name.split("__", 2), "", ""])[:3]
        return f"{server} · {tool}({compact_json(arguments, max(width - len(name), 20))})"
    key = _ESSENTIAL_ARGUMENT.get(name)
    argument: Any = arguments.get(key) if key else None
    if not argument:
        return f"{name}({compact_json(arguments, width)})"
    shown = one_line(str(argument), width)
    if name == "Read" and ("offset" in arguments or "limit" in arguments):
        start = int(arguments.get("offset") or 1)
        end = f"{start + int(arguments['limit']) - 1}" if arguments.get("limit") else ""
        shown += f":{start}-{end}"
    elif name in ("Grep", "Glob") and arguments.get("path"):
        shown += f" in {one_line(str(arguments['path']), width // 2)}"
    return f"{name}({shown})"
