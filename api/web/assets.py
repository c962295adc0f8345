"""The web app's static files (api/static/web), each served under a name that holds
its content hash — /static/htmx.min.3f2a….js — so browsers may cache it for a year:
a changed file is a new name. Everything is vendored; nothing is fetched at run time."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

FOLDER = Path(__file__).parents[1] / "static" / "web"
MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
FOREVER = "public, max-age=31536000, immutable"


@dataclass(frozen=True)
class Asset:
    body: bytes
    media_type: str


class Assets:
    """The files read once at start-up: their hashed URLs, and their bodies by that name."""

    def __init__(self, folder: Path = FOLDER) -> None:
        self._urls: dict[str, str] = {}
        self._files: dict[str, Asset] = {}
        for path in sorted(folder.iterdir()):
            if path.suffix not in MEDIA_TYPES:
                continue  # e.g. README
            body = path.read_bytes()
            digest = hashlib.sha256(body).hexdigest()[:16]
            hashed = f"{path.stem}.{digest}{path.suffix}"
            self._urls[path.name] = f"/static/{hashed}"
            self._files[hashed] = Asset(body, MEDIA_TYPES[path.suffix])

    def url(self, name: str) -> str:
        """The URL of a file by its plain name (KeyError: a template names a missing file)."""
        return self._urls[name]

    def favicon(self, request: Request) -> Response:
        """`/favicon.ico`, which browsers ask for on every page whatever the page links
        (a 404 there is an error in every console): the site's icon, cached for a day
        (the name is fixed, so not forever)."""
        found = self._files[self._urls["favicon.svg"].removeprefix("/static/")]
        return Response(
            found.body,
            media_type=found.media_type,
            headers={"Cache-Control": "public, max-age=86400"},
        )

    def response(self, request: Request) -> Response:
        found = self._files.get(request.path_params["name"])
        if found is None:
            return Response("Not found", 404, media_type="text/plain")
        return Response(found.body, media_type=found.media_type, headers={"Cache-Control": FOREVER})
