"""Where people open the web app, as the running `crafting serve` knows it: the commands
run beside it (`crafting login-link`, `crafting demo`) print sign-in links to that
address, not to the default port, when CRAFTING_PUBLIC_URL is not set for them."""

from __future__ import annotations

import os
import re
from contextlib import suppress

from infra.key_files import key_file
from infra.settings import Settings

VARIABLE = "CRAFTING_PUBLIC_URL"
SUFFIX = "public-url"
_URL = re.compile(r"^https?://[^\s/?#]+(/[^\s?#]*)?$")  # as WebSettings.public_url


def remember(settings: Settings) -> None:
    """Keep `serve`'s address beside the SQLite database (`<database>.public-url`,
    overwritten at every start); nothing on PostgreSQL, where CRAFTING_PUBLIC_URL is
    the way to say it."""
    path = key_file(settings, SUFFIX)
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    temporary.write_text(settings.web.public_url + "\n")
    temporary.replace(path)  # whole or not at all: a reader never sees half of it


def public_url(settings: Settings) -> str:
    """CRAFTING_PUBLIC_URL when set; else the address the last `serve` on this database
    listened on; else the default."""
    if os.environ.get(VARIABLE):
        return settings.web.public_url
    path = key_file(settings, SUFFIX)
    if path is not None:
        with suppress(OSError):
            kept = path.read_text().strip()
            if _URL.match(kept):
                return kept
    return settings.web.public_url
