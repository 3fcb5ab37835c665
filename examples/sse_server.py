"""An SSE endpoint streaming Claude Code's answer to a browser (pip install starlette uvicorn).

    uvicorn examples.sse_server:app
    curl -N 'localhost:8000/chat?q=hello'

One conversation per server here, so follow-ups keep their context; a real service would keep
one client per user session. Events go out in the Anthropic API's shapes (``to_dict()``).
"""

import json

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

from claude_chat import AsyncChatClient

chat = AsyncChatClient(permission_mode="plan")


async def stream(request: Request) -> StreamingResponse:
    question = request.query_params.get("q", "")

    async def events():  # type: ignore[no-untyped-def]
        async for event in await chat.send(question):
            yield f"data: {json.dumps(event.to_dict())}\n\n"

    return StreamingResponse(events(), media_type="text/event-stream")


app = Starlette(routes=[Route("/chat", stream)], on_shutdown=[chat.close])
