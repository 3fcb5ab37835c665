"""The chat page at ``/`` and its files under ``/static/`` (the page, ``claude-chat.js``, the
vendored markdown renderer and highlighter): everything a browser needs, from this server.

The page shows model output, which is untrusted: its Content-Security-Policy allows scripts
and styles from this server only, so markup smuggled into an answer could run nothing even if
it got past the renderer's escaping. No key is needed for these files; the page asks for one.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from claude_chat.server.errors import ApiError

router = APIRouter()

STATIC_DIR = Path(__file__).parent / "static"
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # Revalidated each time, so a new version of the server is never run with an old page.
    "Cache-Control": "no-cache",
}
MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}


@router.get("/", include_in_schema=False)
async def page() -> FileResponse:
    return _file("index.html")


@router.get("/static/{name:path}", include_in_schema=False)
async def static_file(name: str) -> FileResponse:
    return _file(name)


def _file(name: str) -> FileResponse:
    path = (STATIC_DIR / name).resolve()
    media_type = MEDIA_TYPES.get(path.suffix)
    # Only files of the static dir itself, of the kinds above: no way out through "..".
    if media_type is None or not path.is_relative_to(STATIC_DIR.resolve()) or not path.is_file():
        raise ApiError(404, f"no file /static/{name[:100]}")
    return FileResponse(path, media_type=media_type, headers=HEADERS)
