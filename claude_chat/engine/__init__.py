"""The Claude Code process and what it says: the engine, the SDK translation at its edge, the
events and errors it hands out, the chat's configuration and the secrets kept out of files.

Nothing here imports the terminal, rich, prompt-toolkit or typer.
"""
