"""A whole chat in 15 lines: one Claude Code process, every line a turn of the same session."""

from claude_chat import ChatClient, TextDelta

with ChatClient() as chat:
    while True:
        try:
            line = input("you> ")
        except EOFError:
            break
        for event in chat.send(line):
            if isinstance(event, TextDelta):
                print(event.text, end="", flush=True)
        print()
    print(f"session: {chat.session_id}")
