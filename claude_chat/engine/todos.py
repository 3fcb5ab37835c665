"""Claude Code's task list: what its TodoWrite tool sets, as our own type."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

TodoStatus = Literal["pending", "in_progress", "completed"]
TODO_TOOL = "TodoWrite"
_STATUSES: tuple[TodoStatus, ...] = ("pending", "in_progress", "completed")


@dataclass(frozen=True)
class Todo:
    content: str
    status: TodoStatus
    # How the item reads while it is being done ("Running the tests").
    active_form: str = ""


def todos_from(tool_input: Mapping[str, Any]) -> tuple[Todo, ...] | None:
    """The whole list a TodoWrite call sets (each call sets all of it); None when the input
    is not such a list."""
    items = tool_input.get("todos")
    if not isinstance(items, list):
        return None
    todos = []
    for item in items:
        if not isinstance(item, Mapping) or not isinstance(item.get("content"), str):
            return None
        status: TodoStatus = next((s for s in _STATUSES if s == item.get("status")), "pending")
        active = item.get("activeForm")
        todos.append(Todo(item["content"], status, active if isinstance(active, str) else ""))
    return tuple(todos)
