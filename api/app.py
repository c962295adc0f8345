"""The HTTP application."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from infra.bootstrap import Container, bootstrap


def create_app(container: Container | None = None) -> FastAPI:
    """Build the FastAPI app around a bootstrapped container."""
    owned = container is None
    built = container or bootstrap()

    settings = built.settings
    run_projections = (
        settings.is_sqlite if settings.serve_projections is None else settings.serve_projections
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        built.runner.ensure_ready()
        worker = None
        if run_projections:
            worker = threading.Thread(target=built.runner.run, name="projections", daemon=True)
            worker.start()
        yield
        built.runner.stop()
        if worker is not None:
            worker.join(timeout=10)
        if owned:
            built.close()

    app = FastAPI(title="Crafting agreements", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.container = built

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    return app
