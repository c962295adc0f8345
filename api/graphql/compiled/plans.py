"""Compiled plans kept by document text, and one request's plan run as one statement."""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import orjson
import psycopg
from graphql import DocumentNode, GraphQLError, GraphQLSchema
from graphql.execution.values import get_argument_values, get_variable_values
from sqlalchemy import Connection

from api.graphql.agreements.queries import AgreementFilter, agreements_arguments
from api.graphql.compiled.compiler import (
    Plan,
    Unsupported,
    compile_document,
    edge_list_placeholder,
)
from api.graphql.compiled.sql import RM
from api.graphql.context import Context
from api.graphql.errors import BadInputError, ForbiddenError
from api.http.metrics import COMPILED_READS
from projections import queries as q
from projections.tables import PROJECTION_NAME, ReadModel, projection_state, read_model

log = logging.getLogger("crafting.graphql")
PLANS_KEPT = 512
_PARAMETER = re.compile(r"%\((\w+)\)s")


@dataclass(frozen=True)
class _Page:
    """One root list's checked arguments."""

    index: int
    where: q.AgreementCriteria
    after: int | None
    first: int


class CompiledReads:
    """One schema's plans by document text (LRU), and their execution."""

    def __init__(self) -> None:
        self._plans: OrderedDict[tuple[str, str | None], Plan | None] = OrderedDict()
        # The read model's live generation as last seen: each statement names its
        # tables and checks it (`_run`); read again only when it has switched.
        self._generation: int | None = None

    def plan(
        self, schema: GraphQLSchema, document: DocumentNode, query: str, operation_name: str | None
    ) -> Plan | None:
        """The plan of `document` (parsed from `query`), compiled on first sight."""
        # Keyed by text, not by the document object: the parser cache may parse a text
        # again once it has dropped it.
        key = (query, operation_name)
        if key in self._plans:
            self._plans.move_to_end(key)
            return self._plans[key]
        plan = compile_document(schema, document, operation_name)
        self._plans[key] = plan
        if len(self._plans) > PLANS_KEPT:
            self._plans.popitem(last=False)
        return plan

    def known(self, query: str, operation_name: str | None) -> Plan | None:
        """The plan of a text compiled before, or None (never seen, or not compilable).

        A text has a plan only once the schema's parsing, limits and validation have
        passed it (`plan` runs after them), and none of those depends on the caller:
        the lean route (api.graphql.compiled_route) serves such a text without them."""
        key = (query, operation_name)
        plan = self._plans.get(key)
        if plan is not None:
            self._plans.move_to_end(key)
        return plan

    async def execute(
        self,
        ctx: Context,
        schema: GraphQLSchema,
        document: DocumentNode,
        query: str,
        variables: dict[str, Any] | None,
        operation_name: str | None,
    ) -> orjson.Fragment | None:
        """The response's `data` as JSON text, or None: the resolvers answer instead."""
        plan = self.plan(schema, document, query, operation_name)
        if plan is None:
            return None
        return await self.execute_plan(ctx, schema, plan, variables)

    async def execute_plan(
        self, ctx: Context, schema: GraphQLSchema, plan: Plan, variables: dict[str, Any] | None
    ) -> orjson.Fragment | None:
        """`plan` for this caller and these variables as JSON text, or None: the
        resolvers answer instead (arguments they refuse, or a fault)."""
        try:
            pages = _pages(schema, plan, ctx, variables or {})
        except Unsupported:
            COMPILED_READS.labels("fallback").inc()
            return None
        viewer = ctx.scope
        try:
            text = await ctx.read_alone(lambda conn: self._run(conn, plan, pages, viewer))
        except Exception:  # a fault here must not cost the answer: the resolvers give it
            log.exception("compiled read failed; answering with the resolvers")
            COMPILED_READS.labels("failed").inc()
            return None
        COMPILED_READS.labels("served").inc()
        return orjson.Fragment(text)

    def _run(self, conn: Connection, plan: Plan, pages: list[_Page], viewer: q.ReadScope) -> str:
        """The page as JSON text, from one statement run alone (no transaction: no
        BEGIN and COMMIT round trips, nor one to read the generation). The statement
        reads the live generation in its own snapshot beside the tables it names, so
        a rebuild's switch in between is seen: the generation is read again and the
        statement run on the new tables (a dropped old table fails the same way)."""
        for attempt in range(2):
            if self._generation is None or attempt:
                self._generation = q.live_read_model(conn).generation
            generation = self._generation
            try:
                rows = self._rows(conn, read_model(generation), plan, pages, viewer)
            except psycopg.errors.UndefinedTable:
                continue  # the generation named was dropped after a switch
            if _generation_of(rows) == generation:
                return _spliced(rows, len(plan.edge_lists))
        raise RuntimeError("the read model's generation switched twice under one read")

    def _rows(
        self, conn: Connection, rm: ReadModel, plan: Plan, pages: list[_Page], viewer: q.ReadScope
    ) -> list[Any]:
        params: dict[str, Any] = {}
        selects: list[Any] = []
        key: list[Any] = [rm.generation]
        dense: set[str] = set()  # the pages whose agreements are consecutive
        for page in pages:
            select, values = q.agreements_page(rm, viewer, page.where, page.first, page.after)
            prefix = f"p{page.index}_"
            # The page's size is written in the statement, not bound: a prepared
            # statement's generic plan takes a bound LIMIT for a tenth of the table, so
            # PostgreSQL kept planning the first page of a sync anew (~1 ms) each time.
            params.update((prefix + k, v) for k, v in values.items() if k != "page_limit")
            selects.append(select)
            # The page's SQL differs only by the viewer's kind, the filters set and
            # the page's size (an int the arguments' check bounded).
            # Every agreement after the cursor, in creation order: the page's children
            # of a kind are one range of their `agreement_position` index (`Ranged`).
            consecutive = viewer.sees_all and page.where == q.AgreementCriteria()
            if consecutive:
                dense.add(f"p{page.index}")
            key.append(
                (
                    viewer.sees_all,
                    viewer.is_manager,
                    tuple(sorted(values)),
                    page.first,
                    consecutive,
                )
            )
        statement = plan.statements.get(tuple(key))
        if statement is None:  # compiled once per generation and page shapes
            parts = [
                f"p{p.index} AS ({_page_sql(conn, select, f'p{p.index}_', p.first)})"
                for p, select in zip(pages, selects, strict=True)
            ]
            edge_lists = list(plan.edge_lists)
            for index, page_name in enumerate(plan.edge_pages):
                if page_name in dense:
                    edge_lists[index], ctes = plan.ranged_edge_lists[index]
                    parts += ctes
            body = ", ".join(f'{r.json_sql} AS "{r.key}"' for r in plan.roots)
            with_ = f"WITH {', '.join(parts)} " if parts else ""
            # The document's row carries the live generation (its second column, the
            # edges' position), read in the statement's snapshot.
            live = (
                f"(SELECT generation FROM {projection_state.name} WHERE name = '{PROJECTION_NAME}')"
            )
            unions = [f"SELECT -1, {live}, row_to_json(o)::text FROM (SELECT {body}) o"]
            unions += edge_lists
            # Ordered by PostgreSQL (the document's row first, then each list's edges
            # in position order), so its rows are sent together once all are built:
            # streamed as they were built, the ~260 KiB of a page came in ~30 parts,
            # each a wake-up of the reading thread (bench/RESULTS.md, ninth session).
            statement = with_ + " UNION ALL ".join(unions) + " ORDER BY 1, 2"
            statement = statement.replace(RM, f"rm{rm.generation}_")
            for p in pages:
                statement = statement.replace(f"%(p{p.index}_first)s", str(int(p.first)))
            plan.statements[tuple(key)] = statement
        # Prepared on its first execution on each connection, not psycopg's fifth: the
        # statement is long (parsing it is ~2 ms of PostgreSQL's time) and a pool under
        # load replaces its overflow connections often, so many would never reach five.
        raw = cast("psycopg.Connection[Any]", conn.connection.driver_connection)
        return raw.execute(statement, params, prepare=True).fetchall()


def _generation_of(rows: Sequence[Any]) -> int:
    """The live generation the statement saw (the document's row, list -1)."""
    return int(next(row[1] for row in rows if row[0] == -1))


def _spliced(rows: Sequence[Any], lists: int) -> str:
    """The document (list -1) with each edge list's rows, in position order (as the
    statement orders them), in place of its placeholder."""
    document: str = rows[0][2]
    edges: list[list[str]] = [[] for _ in range(lists)]
    for index, _, text in rows[1:]:
        edges[index].append(text)
    for index, texts in enumerate(edges):
        document = document.replace(edge_list_placeholder(index), f"[{','.join(texts)}]", 1)
    return document


def _pages(
    schema: GraphQLSchema, plan: Plan, ctx: Context, variables: dict[str, Any]
) -> list[_Page]:
    """Each root list's arguments, checked as its resolver checks them (any refusal:
    the resolver refuses it, with its own error)."""
    if plan.needs_sees_all and not ctx.scope.sees_all:
        raise Unsupported
    definitions = plan.operation.variable_definitions or ()
    coerced = get_variable_values(schema, definitions, variables)
    if isinstance(coerced, list):
        raise Unsupported
    pages = []
    for index, root in enumerate(plan.roots):
        if root.node is None:
            continue
        definition = schema.query_type.fields[root.name]  # type: ignore[union-attr]
        try:
            args = get_argument_values(definition, root.node, coerced)
            if args.get("consistentWith") is not None:
                raise Unsupported  # waits and may time out: the resolver does that
            filter_ = _agreement_filter(args.get("filter"))
            size, after, where = agreements_arguments(args["first"], args["after"], filter_)
        except (GraphQLError, BadInputError, ForbiddenError, KeyError, TypeError) as error:
            raise Unsupported from error
        pages.append(_Page(index, where, after, size))
    return pages


def _page_sql(conn: Connection, select: Any, prefix: str, first: int) -> str:
    """The page select as SQL text, its parameters renamed with the root's prefix and
    its limit (`first` + 1) written in."""
    compiled = str(select.compile(dialect=conn.dialect))

    def named(match: re.Match[str]) -> str:
        name = match.group(1)
        return str(int(first) + 1) if name == "page_limit" else f"%({prefix}{name})s"

    return _PARAMETER.sub(named, compiled)


def _agreement_filter(value: dict[str, Any] | None) -> AgreementFilter | None:
    if value is None:
        return None
    return AgreementFilter(
        status=value.get("status"),
        employee_id=value.get("employeeId"),
        manager_id=value.get("managerId"),
        team_id=value.get("teamId"),
        updated_since=value.get("updatedSince"),
    )
