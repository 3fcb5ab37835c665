"""``claude-chat serve``: continuous Claude Code conversations over HTTP (SSE, JSON) and
WebSocket for many tenants, one long-lived Claude Code process per live conversation.

Nothing here imports the terminal chat (rich, prompt_toolkit, typer); ``app.create_app`` builds
the ASGI app and ``run.serve`` runs it under uvicorn.
"""
