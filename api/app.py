"""The HTTP application: GraphQL at /graphql, health, readiness and metrics."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from api import logs
from api.graphql.router import CraftingGraphQLRouter
from api.graphql.schema import build_schema
from api.metrics import PROJECTION_LAG
from api.middleware import RequestMiddleware
from infra.bootstrap import Container, bootstrap
from infra.runtime import tuned_gc
from infra.secrets import jwt_secret

log = logging.getLogger("crafting.http")
READY_MAX_LAG = 10_000


def create_app(container: Container | None = None) -> FastAPI:
    """Build the FastAPI app around a bootstrapped container."""
    owned = container is None
    built = container or bootstrap()
    settings = built.settings
    logs.configure(settings.log_level)
    secret = jwt_secret(settings, create=True)
    run_projections = (
        settings.is_sqlite if settings.serve_projections is None else settings.serve_projections
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await asyncio.to_thread(built.prepare)
        worker = sealer = None
        if run_projections:
            worker = threading.Thread(target=built.runner.run, name="projections", daemon=True)
            worker.start()
            sealer = built.sealer()
            if sealer is not None:
                threading.Thread(target=sealer.run, name="sealer", daemon=True).start()
        with tuned_gc():  # in each worker, once everything startup needs is loaded
            yield
        built.runner.stop()
        if sealer is not None:
            sealer.stop()
        if worker is not None:
            worker.join(timeout=10)
        if owned:
            built.close()

    app = FastAPI(
        title="Crafting agreements",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.container = built
    graphql = CraftingGraphQLRouter(
        built,
        secret,
        build_schema(introspection=settings.dev),
        graphql_ide="graphiql" if settings.dev else None,
    )
    app.include_router(graphql, prefix="/graphql")

    app.add_middleware(RequestMiddleware)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @app.get("/readyz")
    def readyz() -> JSONResponse:
        """The database answers and the projections are not far behind."""
        try:
            with built.engines.reader.connect() as conn:
                conn.execute(text("SELECT 1"))
            lag = built.runner.lag()
        except Exception:  # any database failure means not ready
            log.warning("readiness check failed", exc_info=True)
            return JSONResponse({"status": "unavailable", "database": "unreachable"}, 503)
        PROJECTION_LAG.set(lag)
        ready = lag <= READY_MAX_LAG
        return JSONResponse(
            {"status": "ok" if ready else "lagging", "database": "ok", "projection_lag": lag},
            200 if ready else 503,
        )

    @app.get("/metrics")
    def metrics() -> Response:
        """Prometheus text format."""
        try:
            PROJECTION_LAG.set(built.runner.lag())
        except Exception:  # metrics must answer even when the database does not
            log.warning("could not read projection lag", exc_info=True)
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app
