"""What is kept on disk: Claude Code's stored sessions (listing, lookup, changes),
transcripts (markdown, JSON, HTML) and the journal of every turn.

Nothing here imports the terminal, rich, prompt-toolkit or typer.
"""
