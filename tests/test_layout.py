"""The package's folders are its architecture: what each part may import, checked in a fresh
interpreter, where nothing else has loaded a module for it."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import claude_chat

PACKAGE = Path(claude_chat.__file__).parent
# What only the terminal chat and its entry point may load.
FRONT_END_ONLY = ("rich", "prompt_toolkit", "typer", "claude_chat.terminal")


def modules_of(folder: str) -> list[str]:
    return sorted(
        "claude_chat." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
        for path in (PACKAGE / folder).rglob("*.py")
    )


def loaded_by(modules: list[str]) -> set[str]:
    script = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    return set(json.loads(done.stdout))


def front_end_modules(loaded: set[str]) -> list[str]:
    return sorted(
        name
        for name in loaded
        if any(name == f or name.startswith(f + ".") for f in FRONT_END_ONLY)
    )


@pytest.mark.parametrize("folder", ["engine", "store", "server"])
def test_engine_store_and_server_load_nothing_of_the_front_ends(folder: str) -> None:
    modules = modules_of(folder)
    assert modules
    # httpx (under the SDK, through mcp) loads rich for its own command-line tool when rich is
    # installed: what the SDK brings is not ours to keep out.
    beyond_the_sdk = loaded_by(modules) - loaded_by(["claude_agent_sdk"])
    assert front_end_modules(beyond_the_sdk) == []
    # Without the SDK (all of the engine but its edge), nothing of them at all.
    assert front_end_modules(loaded_by([m for m in modules if not m.endswith(".translate")])) == []


def test_the_library_loads_nothing_of_the_terminal() -> None:
    loaded = loaded_by(["claude_chat", "claude_chat.client"])
    assert not {n for n in loaded if n.split(".")[0] in ("rich", "prompt_toolkit", "typer")}
    assert not {n for n in loaded if n.startswith("claude_chat.terminal")}


def imports_of(path: Path) -> set[str]:
    """The claude_chat modules ``path`` imports, at any level (lazy imports count too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name.startswith("claude_chat.")}


def test_no_module_of_engine_store_or_server_names_the_terminal() -> None:
    for folder in ("engine", "store", "server"):
        for path in (PACKAGE / folder).rglob("*.py"):
            assert not {m for m in imports_of(path) if m.startswith("claude_chat.terminal")}, path


def test_no_import_cycles() -> None:
    modules = {
        "claude_chat." + ".".join(p.relative_to(PACKAGE).with_suffix("").parts): p
        for p in PACKAGE.rglob("*.py")
    }
    graph = {
        name: {m for m in imports_of(path) if m in modules and m != name}
        for name, path in modules.items()
    }
    done: set[str] = set()

    def visit(name: str, trail: list[str]) -> None:
        if name in trail:
            cycle = [*trail[trail.index(name) :], name]
            raise AssertionError("import cycle: " + " -> ".join(cycle))
        if name in done:
            return
        for other in sorted(graph[name]):
            visit(other, [*trail, name])
        done.add(name)

    for name in sorted(graph):
        visit(name, [])


def test_the_public_api_is_where_it_was_and_listed() -> None:
    listed = dir(claude_chat)
    for name in claude_chat.__all__:
        assert name in listed
        assert getattr(claude_chat, name) is not None
    from claude_chat import AsyncChatClient, ChatClient, TextDelta, TurnResult

    assert AsyncChatClient and ChatClient and TextDelta and TurnResult
