"""The HTTP application: GraphQL at /graphql, SCIM at /scim/v2, health, readiness and
metrics, and the web app at / (mounted last: it answers every other path)."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.graphql.router import GRAPHIQL_ASSETS, CraftingGraphQLRouter
from api.graphql.schema import build_schema
from api.http import logs
from api.http.auth import bearer_token
from api.http.authenticator import (
    RETRY_AFTER_SECONDS,
    UNAVAILABLE,
    InvalidTokenError,
    ProviderUnavailableError,
    UnmappedTokenError,
)
from api.http.identity import identity
from api.http.metrics import PROJECTION_LAG
from api.http.middleware import RequestMiddleware
from api.http.ratelimit import RateLimiter
from api.ports import Ports
from api.scim.app import ScimApplication
from api.web.app import create_web_app
from domain.access import sees_all
from infra.bootstrap import Container, bootstrap
from infra.retention import RetentionWorker
from infra.runtime import exit_with_supervisor, tuned_gc
from infra.secrets import jwt_secret
from projections.heartbeat import worker_health
from projections.runner import WORKER_NAME

log = logging.getLogger("crafting.http")


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

    run_webhooks = run_projections if settings.webhooks_run is None else settings.webhooks_run

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        exit_with_supervisor()
        await asyncio.to_thread(built.prepare)
        worker = sealer = retention = deliveries = None
        if run_webhooks:
            deliveries = threading.Thread(target=built.webhooks.run, name="webhooks", daemon=True)
            deliveries.start()
        if run_projections:
            worker = threading.Thread(target=built.runner.run, name="projections", daemon=True)
            worker.start()
            sealer = built.sealer()
            if sealer is not None:
                threading.Thread(target=sealer.run, name="sealer", daemon=True).start()
            if settings.retention_days_after_leaving or settings.keystore_url:
                retention = RetentionWorker(built)
                threading.Thread(target=retention.run, name="retention", daemon=True).start()
        with tuned_gc():  # in each worker, once everything startup needs is loaded
            yield
        built.runner.stop()
        built.webhooks.stop()
        for background in (sealer, retention):
            if background is not None:
                background.stop()
        if worker is not None:
            worker.join(timeout=10)
        if deliveries is not None:
            deliveries.join(timeout=10)
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
    ports = Ports.of(built)
    signing_in = identity(settings, secret, ports)
    authenticator = signing_in.authenticator
    limiter = RateLimiter(settings.rate_limit_per_second, settings.rate_limit_burst)
    graphql = CraftingGraphQLRouter(
        ports,
        authenticator,
        limiter,
        build_schema(),
        dev=settings.dev,
        graphql_ide="graphiql" if settings.dev else None,
    )
    app.include_router(graphql, prefix="/graphql")
    # Serves /scim/v2/...; scim2-server types its ASGI scope as a plain dict.
    app.mount("/scim", ScimApplication(ports, authenticator, limiter))  # type: ignore[arg-type]
    if settings.dev:  # GraphiQL's scripts and styles, vendored (api/static/graphiql)
        app.mount("/static/graphiql", StaticFiles(directory=GRAPHIQL_ASSETS), name="graphiql")

    app.add_middleware(RequestMiddleware, body_seconds=settings.request_body_seconds)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @app.get("/readyz")
    def readyz() -> JSONResponse:
        """The database answers, and the projector is alive and keeping up."""
        try:
            lag = built.runner.lag()
            projector = worker_health(
                built.engines.reader,
                WORKER_NAME,
                lag,
                max_silent_seconds=settings.ready_heartbeat_seconds,
                max_behind_seconds=settings.ready_max_lag_seconds,
            )
        except Exception as error:  # any database failure means not ready
            log.warning("readiness check failed: %s", type(error).__name__)
            return JSONResponse({"status": "unavailable", "database": "unreachable"}, 503)
        PROJECTION_LAG.set(lag)
        body: dict[str, object] = {
            "status": "ok" if projector.ready else "unavailable",
            "database": "ok",
            "projection_lag": lag,
            "projection_lag_seconds": round(projector.behind_seconds, 1),
            "projector_heartbeat_age_seconds": (
                None if projector.silent_seconds is None else round(projector.silent_seconds, 1)
            ),
        }
        if projector.reason is not None:
            body["reason"] = projector.reason
        return JSONResponse(body, 200 if projector.ready else 503)

    @app.get("/metrics")
    def metrics(request: Request) -> Response:
        """Prometheus text format, for HR, auditors and integrations: like every endpoint
        but the health checks it needs a bearer token (Prometheus: `authorization`)."""
        try:
            actor = authenticator.actor(bearer_token(request.headers))
        except InvalidTokenError:
            return JSONResponse(
                {"detail": "The bearer token is invalid or expired."},
                401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        except UnmappedTokenError as error:
            return JSONResponse({"detail": str(error)}, 403)
        except ProviderUnavailableError:
            retry = {"Retry-After": str(RETRY_AFTER_SECONDS)}
            return JSONResponse({"detail": UNAVAILABLE}, 503, headers=retry)
        if not sees_all(actor):
            return JSONResponse({"detail": "Metrics are for HR, AUDITOR or INTEGRATION."}, 403)
        if wait := limiter.retry_after(actor.id):  # the caller's budget, as for GraphQL
            too_many = {"detail": f"Too many requests from this caller; retry in {wait} s."}
            return JSONResponse(too_many, 429, headers={"Retry-After": str(wait)})
        try:
            PROJECTION_LAG.set(built.runner.lag())
        except Exception:  # metrics must answer even when the database does not
            log.warning("could not read projection lag", exc_info=True)
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    # Last: a mount at / matches every path, so the routes above must come first.
    app.mount(
        "/",
        create_web_app(
            ports,
            secret,
            settings.public_url,
            settings.session_idle_minutes,
            limiter,
            signing_in.web,
        ),
    )
    return app
