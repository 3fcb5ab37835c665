"""Callbacks fire as events arrive, whether or not the caller reads the events."""

from claude_chat import ChatClient, ChatError, TextDelta, ToolCall, TurnError, TurnResult


def on_chunk(event: object) -> None:
    if isinstance(event, TextDelta):
        print(event.text, end="", flush=True)
    elif isinstance(event, ToolCall):
        print(f"\n[tool] {event.name} {event.input}")


def on_complete(result: TurnResult) -> None:
    ttft = result.time_to_first_token_s or 0.0
    print(
        f"\n[{result.model}: {result.usage.output_tokens} tokens, ${result.cost_usd:.4f}, "
        f"first token {ttft:.2f}s]"
    )


def on_error(error: TurnError | ChatError) -> None:
    print(f"\n[error] {error}")


with ChatClient(
    model="sonnet", on_chunk=on_chunk, on_complete=on_complete, on_error=on_error
) as chat:
    chat.ask("List the files here, then say how many there are.")
    chat.ask("Which of them is the largest?")  # same session: it remembers the list
