"""The HTTP application: GraphQL at /graphql, SCIM at /scim/v2, health, readiness and
metrics, and the web app at / (mounted last: it answers every other path)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from api.graphql.compiled_route import CompiledRoute
from api.graphql.router import GRAPHIQL_ASSETS, CraftingGraphQLRouter
from api.graphql.schema import build_schema
from api.http import logs
from api.http.auth import bearer_token
from api.http.authenticator import REFUSALS, refused
from api.http.dossier_download import PATH, PERSON_PATH, DossierDownload
from api.http.followers import FollowerCollector, readiness_body, report
from api.http.identity import identity
from api.http.metrics import (
    INSIGHTS,
    NOTIFICATION_BACKLOG,
    NOTIFICATION_BACKLOG_AGE,
    PROJECTION_LAG,
)
from api.http.middleware import RequestMiddleware
from api.http.ratelimit import RateLimiter
from api.http.replicas import ReplicaCollector, replicas_body
from api.ports import Ports
from api.scim.app import ScimApplication
from api.web.app import create_web_app
from domain.access import sees_all
from infra import deployment
from infra.bootstrap import Container, bootstrap
from infra.runtime import exit_with_supervisor, tuned_gc
from infra.secrets import jwt_secret

log = logging.getLogger("crafting.http")


def create_app(container: Container | None = None) -> FastAPI:
    """Build the FastAPI app around a bootstrapped container."""
    owned = container is None
    built = container or bootstrap()
    settings = built.settings
    logs.configure(settings.log_level)
    secret = jwt_secret(settings, create=True)
    database_series = CollectorRegistry(auto_describe=False)
    database_series.register(FollowerCollector(built))
    replica_series = CollectorRegistry(auto_describe=False)
    if built.read_router is not None:
        replica_series.register(ReplicaCollector(built.read_router))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        exit_with_supervisor()
        await asyncio.to_thread(built.prepare)
        running = deployment.start("serve", built)  # infra.deployment: which run here
        if built.read_router is not None:
            await asyncio.to_thread(built.read_router.start)
        with tuned_gc():  # in each worker, once everything startup needs is loaded
            yield
        if built.read_router is not None:
            await asyncio.to_thread(built.read_router.stop)
        await asyncio.to_thread(running.stop)
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
    ports.reads.kept_insights.counted = lambda how: INSIGHTS.labels(how).inc()
    signing_in = identity(settings, secret, ports)
    authenticator = signing_in.authenticator
    limiter = RateLimiter(settings.limits.rate_per_second, settings.limits.rate_burst)
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

    # Inside RequestMiddleware (added after it, so it wraps this): POST /graphql answered
    # without FastAPI's routing and strawberry's view (api.graphql.compiled_route).
    app.add_middleware(CompiledRoute, graphql=graphql)
    app.add_middleware(RequestMiddleware, body_seconds=settings.limits.request_body_seconds)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @app.get("/readyz")
    def readyz() -> JSONResponse:
        """The database answers, and every follower of the log is alive and keeping
        up; every follower's figures and the open alarms."""
        replicas = None if built.read_router is None else replicas_body(built.read_router)
        try:
            found = report(built)
        except Exception as error:  # any database failure means not ready
            log.warning("readiness check failed: %s", type(error).__name__)
            down: dict[str, object] = {"status": "unavailable", "database": "unreachable"}
            if replicas is not None:
                down["read_replicas"] = replicas
            return JSONResponse(down, 503)
        projector = found.follower("projector")
        if projector is not None and projector.lag is not None:
            PROJECTION_LAG.set(projector.lag)
        body = readiness_body(found)
        body["notifications"] = _notification_backlog()
        if replicas is not None:
            body["read_replicas"] = replicas
        return JSONResponse(body, 200 if found.ready else 503)

    def _notification_backlog() -> dict[str, object] | None:
        """Mails waiting (the mail server down or slow): shown, never a reason to take
        the API out of service — they wait, and go once it answers."""
        try:
            waiting = ports.notices.service.backlog()
        except Exception:
            log.warning("could not read the notification backlog", exc_info=True)
            return None
        NOTIFICATION_BACKLOG.set(waiting.pending)
        NOTIFICATION_BACKLOG_AGE.set(waiting.oldest_seconds)
        return {"backlog": waiting.pending, "oldest_seconds": round(waiting.oldest_seconds, 1)}

    @app.get("/metrics")
    def metrics(request: Request) -> Response:
        """Prometheus text format, for HR, auditors and integrations: like every endpoint
        but the health checks it needs a bearer token (Prometheus: `authorization`)."""
        try:
            actor = authenticator.actor(bearer_token(request.headers))
        except REFUSALS as error:
            return refused(error)
        if not sees_all(actor):
            return JSONResponse({"detail": "Metrics are for HR, AUDITOR or INTEGRATION."}, 403)
        if wait := limiter.retry_after(actor.id):  # the caller's budget, as for GraphQL
            too_many = {"detail": f"Too many requests from this caller; retry in {wait} s."}
            return JSONResponse(too_many, 429, headers={"Retry-After": str(wait)})
        try:
            PROJECTION_LAG.set(built.projector.lag())
            from_database = generate_latest(database_series)
        except Exception:  # metrics must answer even when the database does not
            log.warning("could not read the followers' figures", exc_info=True)
            from_database = b""
        _notification_backlog()
        from_router = generate_latest(replica_series)  # no database asked: always answers
        return Response(
            generate_latest() + from_database + from_router, media_type=CONTENT_TYPE_LATEST
        )

    # A dossier for the bearer (GraphQL's `dossier` gives this address).
    dossiers = DossierDownload(ports, authenticator, limiter)
    app.add_route(PERSON_PATH, dossiers.download_person, methods=["GET"])
    app.add_route(PATH, dossiers.download, methods=["GET"])

    # Last: a mount at / matches every path, so the routes above must come first.
    app.mount(
        "/",
        create_web_app(
            ports,
            secret,
            settings.web.public_url,
            settings.web.session_idle_minutes,
            limiter,
            signing_in.web,
            settings.web.email_signin,
        ),
    )
    return app
