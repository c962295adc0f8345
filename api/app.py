"""The HTTP application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from infra.bootstrap import Container, bootstrap


def create_app(container: Container | None = None) -> FastAPI:
    """Build the FastAPI app around a bootstrapped container."""
    owned = container is None
    built = container or bootstrap()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        if owned:
            built.close()

    app = FastAPI(title="Crafting agreements", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.container = built

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    return app
