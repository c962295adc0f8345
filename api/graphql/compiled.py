"""Agreement lists compiled into one SQL statement that builds the response (PostgreSQL).

An integration's sync — `agreements(first: 100)` with each agreement's employee,
adjustments, reallocations and latest review — is the hottest read. Resolved field by
field it costs thousands of Python calls per page. Here a query document whose every
field maps onto the read tables is compiled once (per text) into SQL that builds the
`data` JSON inside PostgreSQL, as PostGraphile and Hasura do; each request only checks
its arguments, binds them, runs that one statement and splices its text into the
response (`orjson.Fragment`).

It changes nothing a client can see:
- the page is `projections.queries.agreements_page`, the statement the resolvers run,
  so the caller's row filter is the same SQL;
- arguments go through the resolvers' own check (`agreements_arguments`); a document
  that does not validate, another root field (`reviewsDue` included),
  a directive, `consistentWith`, refused arguments, or a nested `manager` for a caller
  who does not see everyone all take the resolvers' path, so every error is theirs;
- values are formatted as the resolvers format them (floats with their `.0`,
  instants as Python's `isoformat()` in UTC, global ids and cursors byte for byte) —
  tests compare both paths' responses as text.
"""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    NamedTypeNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    is_abstract_type,
    parse,
    specified_rules,
    validate,
)
from graphql.execution.values import get_argument_values, get_variable_values
from graphql.utilities import get_operation_ast
from sqlalchemy import Connection

from api.graphql.context import Context
from api.graphql.errors import BadInputError, ForbiddenError
from api.graphql.limits import MAX_TOKENS
from api.graphql.queries import AgreementFilter, agreements_arguments
from api.metrics import COMPILED_READS
from projections import queries as q
from projections.tables import ReadModel

log = logging.getLogger("crafting.graphql")
PLANS_KEPT = 512
# Where a generation's table prefix goes in compiled SQL; braces never occur in
# GraphQL names, the only text taken from a query.
RM = "{rm}"

SqlOf = Callable[[str], str]  # table alias -> SQL expression


class Unsupported(Exception):
    """This document (or request) takes the resolvers' path."""


# --- value formatting, as the resolvers' output ------------------------------------


def _column(name: str) -> SqlOf:
    return lambda t: f"{t}.{name}"


def _float(name: str) -> SqlOf:
    # Python prints whole floats with ".0" (4.0); PostgreSQL prints "4".
    def sql(t: str) -> str:
        c = f"{t}.{name}"
        return (
            f"(CASE WHEN {c} = trunc({c}) AND abs({c}) < 1e15 "
            f"THEN trunc({c})::bigint::text || '.0' ELSE {c}::text END)::json"
        )

    return sql


def _instant(name: str) -> SqlOf:
    # datetime.isoformat() in UTC: microseconds only when there are any.
    def sql(t: str) -> str:
        text = f"to_char({t}.{name} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US+00:00')"
        return f"replace({text}, '.000000+', '+')"

    return sql


def _base64url(text_sql: str) -> str:
    """api.graphql.ids._encode in SQL: URL-safe base64 without padding (PostgreSQL
    wraps base64 lines at 76 characters; the newlines go with the translation)."""
    return (
        f"rtrim(translate(encode(convert_to({text_sql}, 'UTF8'), 'base64'), E'+/\\n', '-_'), '=')"
    )


def _global_id(type_name: str, name: str) -> SqlOf:
    return lambda t: _base64url(f"'{type_name}:' || {t}.{name}")


def _cursor(kind: str, position_sql: str) -> str:
    return _base64url(f"'{kind}|' || {position_sql}::text")


# --- what each GraphQL type's fields are in the read tables -------------------------

SCALARS: dict[str, dict[str, SqlOf]] = {
    "Agreement": {
        "id": _global_id("Agreement", "agreement_id"),
        "agreementId": _column("agreement_id"),
        "employeeId": _column("employee_id"),
        "approvedByManagerId": _column("approved_by_manager_id"),
        "status": _column("status"),
        "title": _column("title"),
        "developmentHoursPerWeek": _float("development_hours"),
        "nextReviewOn": _column("next_review_on"),
        "version": _column("version"),
        "createdAt": _instant("created_at"),
        "updatedAt": _instant("updated_at"),
    },
    "CareerGoal": {  # columns of the agreement's own row
        "targetRole": _column("target_role"),
        "skills": _column("skills"),
        "targetDate": _column("target_date"),
    },
    "Guardrails": {  # keys of the agreement's guardrails JSON (camelCase as stored)
        "maxDevelopmentHoursPerWeek": lambda t: f"{t}.guardrails->'maxDevelopmentHoursPerWeek'",
        "protectedResponsibilities": lambda t: f"{t}.guardrails->'protectedResponsibilities'",
        "reviewEveryDays": lambda t: f"{t}.guardrails->'reviewEveryDays'",
        "endsOn": lambda t: f"{t}.guardrails->'endsOn'",
    },
    "Person": {
        "id": _global_id("Person", "person_id"),
        "personId": _column("person_id"),
        "displayName": _column("display_name"),
        "email": _column("email"),
        "managerId": _column("manager_id"),
        "teamId": _column("team_id"),
        "contractedHoursPerWeek": _float("contracted_hours_per_week"),
        "active": _column("active"),
        "updatedAt": _instant("updated_at"),
    },
    "Adjustment": {
        "id": _column("adjustment_id"),
        "changeId": _column("change_id"),
        "kind": _column("kind"),
        "description": _column("description"),
        "hoursPerWeek": _float("hours_per_week"),
        "startsOn": _column("starts_on"),
        "endsOn": _column("ends_on"),
        "status": _column("status"),
    },
    "Reallocation": {
        "id": _column("reallocation_id"),
        "changeId": _column("change_id"),
        "task": _column("task"),
        "hoursPerWeek": _float("hours_per_week"),
        "fromPersonId": _column("from_person_id"),
        "toPersonId": _column("to_person_id"),
        "effectiveOn": _column("effective_on"),
        "reason": _column("reason"),
        "status": _column("status"),
    },
    "Review": {
        "id": _column("review_id"),
        "heldOn": _column("held_on"),
        "outcome": _column("outcome"),
        "notes": _column("notes"),
        "nextReviewOn": _column("next_review_on"),
        "heldBy": _column("held_by"),
    },
    "Artifact": {
        "id": _column("artifact_id"),
        "title": _column("title"),
        "kind": _column("kind"),
        "url": _column("url"),
        "skills": _column("skills"),
        "recordedBy": _column("recorded_by"),
        "recordedOn": _column("recorded_on"),
        "agreementId": _global_id("Agreement", "agreement_id"),
    },
    "Change": {
        "changeId": _column("change_id"),
        "kind": _column("kind"),
        "subjectId": _column("subject_id"),
        "rootChangeId": _column("root_id"),
        "version": _column("version"),
        "revertsChangeId": _column("reverts"),
        "revertedByChangeId": _column("reverted_by"),
        "inEffect": lambda t: f"({t}.reverted_by IS NULL)",
    },
}

# An agreement's lists: table, GraphQL type, order (as projections.queries.children).
CHILD_LISTS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "adjustments": ("adjustments", "Adjustment", ("position", "seq")),
    "reallocations": ("reallocations", "Reallocation", ("position",)),
    "reviews": ("reviews", "Review", ("position",)),
    "artifacts": ("artifacts", "Artifact", ("position",)),
    "changes": ("changes", "Change", ("position", "seq")),
}
# reviewsDue is answered by the resolvers: it is sorted by due date with its own cursors
# (and a manager's list is short).
ROOT_LISTS = ("agreements",)


# --- compiling a document -----------------------------------------------------------


@dataclass
class _Root:
    key: str
    name: str  # agreements | __typename
    node: FieldNode | None
    json_sql: str  # uses the page CTE named after the root's index


@dataclass
class Plan:
    """One validated document's operation, compiled."""

    operation: OperationDefinitionNode
    roots: list[_Root]
    needs_sees_all: bool  # selects Person.manager (whose visibility is per row)
    statements: dict[tuple[Any, ...], str] = field(default_factory=dict)


class _Compiler:
    def __init__(self, schema: GraphQLSchema, document: DocumentNode) -> None:
        self.schema = schema
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.aliases = 0
        self.needs_sees_all = False

    def alias(self) -> str:
        self.aliases += 1
        return f"t{self.aliases}"

    def fields(self, type_name: str, nodes: Sequence[FieldNode]) -> dict[str, list[FieldNode]]:
        """The sub-fields of `nodes` by response key, fragments expanded and merged."""
        return self.grouped(type_name, [node.selection_set for node in nodes])

    def grouped(
        self, type_name: str, selection_sets: Sequence[SelectionSetNode | None]
    ) -> dict[str, list[FieldNode]]:
        grouped: dict[str, list[FieldNode]] = {}

        def walk(selection_set: SelectionSetNode | None, seen: set[str]) -> None:
            for selection in selection_set.selections if selection_set else ():
                if selection.directives:
                    raise Unsupported  # @skip/@include depend on variables
                if isinstance(selection, FieldNode):
                    key = (selection.alias or selection.name).value
                    grouped.setdefault(key, []).append(selection)
                elif isinstance(selection, InlineFragmentNode):
                    if self._applies(selection.type_condition, type_name):
                        walk(selection.selection_set, seen)
                elif isinstance(selection, FragmentSpreadNode):
                    name = selection.name.value
                    fragment = self.fragments.get(name)
                    if fragment is None or name in seen:
                        continue
                    seen.add(name)
                    if self._applies(fragment.type_condition, type_name):
                        walk(fragment.selection_set, seen)

        for selection_set in selection_sets:
            walk(selection_set, set())
        return grouped

    def _applies(self, condition: NamedTypeNode | None, type_name: str) -> bool:
        if condition is None or condition.name.value == type_name:
            return True
        abstract, concrete = (self.schema.get_type(n) for n in (condition.name.value, type_name))
        return (
            is_abstract_type(abstract)
            and isinstance(concrete, GraphQLObjectType)
            and self.schema.is_sub_type(abstract, concrete)
        )

    def built(
        self,
        type_name: str,
        nodes: Sequence[FieldNode],
        value_of: Callable[[str, list[FieldNode]], str],
    ) -> str:
        """The selection on `type_name` as a JSON object, each field's SQL from
        `value_of(field name, its nodes)`. `row_to_json` of a one-row subselect: ~20%
        cheaper per object than `json_build_object`, and no spaces in its output."""
        columns: list[str] = []
        for key, group in self.fields(type_name, nodes).items():
            name = group[0].name.value
            value = f"'{type_name}'::text" if name == "__typename" else value_of(name, group)
            columns.append(f'{value} AS "{key}"')
        return f"(SELECT row_to_json(o) FROM (SELECT {', '.join(columns)}) o)"

    def object(self, type_name: str, nodes: Sequence[FieldNode], t: str) -> str:
        """The selection on the row `t` of `type_name`."""
        return self.built(type_name, nodes, lambda _, group: self.field(type_name, group, t))

    def field(self, type_name: str, nodes: list[FieldNode], t: str) -> str:
        name = nodes[0].name.value
        scalar = SCALARS.get(type_name, {}).get(name)
        if scalar is not None:
            return scalar(t)
        if type_name == "Agreement":
            return self.agreement_field(name, nodes, t)
        if type_name == "Person" and name == "manager":
            self.needs_sees_all = True
            return self.person(nodes, f"{t}.manager_id")
        raise Unsupported

    def agreement_field(self, name: str, nodes: list[FieldNode], t: str) -> str:
        if name == "careerGoal":
            return self.object("CareerGoal", nodes, t)
        if name == "guardrails":
            empty = f"{t}.guardrails IS NULL OR {t}.guardrails::text = 'null'"
            return f"CASE WHEN {empty} THEN NULL ELSE {self.object('Guardrails', nodes, t)} END"
        if name == "employee":
            # Whoever sees an agreement may see its employee (api.graphql.context).
            return self.person(nodes, f"{t}.employee_id")
        if name in CHILD_LISTS:
            table, type_name, order = CHILD_LISTS[name]
            c = self.alias()
            ordered = ", ".join(f"{c}.{column}" for column in order)
            return (
                f"coalesce((SELECT json_agg({self.object(type_name, nodes, c)} ORDER BY "
                f"{ordered}) FROM {RM}{table} {c} WHERE {c}.agreement_id = {t}.agreement_id),"
                " '[]'::json)"
            )
        if name == "latestReview":
            c = self.alias()
            return (
                f"(SELECT {self.object('Review', nodes, c)} FROM {RM}reviews {c} "
                f"WHERE {c}.agreement_id = {t}.agreement_id ORDER BY {c}.position DESC LIMIT 1)"
            )
        raise Unsupported

    def person(self, nodes: list[FieldNode], person_id_sql: str) -> str:
        c = self.alias()
        return (
            f"(SELECT {self.object('Person', nodes, c)} FROM {RM}people {c} "
            f"WHERE {c}.person_id = {person_id_sql})"
        )

    def connection(self, nodes: Sequence[FieldNode], page: str) -> str:
        """An AgreementConnection over the page CTE `page` (its first+1 rows)."""
        first = f"%({page}_first)s"

        def value_of(name: str, group: list[FieldNode]) -> str:
            if name == "edges":
                t = self.alias()
                edge = self.built("AgreementEdge", group, lambda n, g: self.edge_field(n, g, t))
                return (
                    f"coalesce((SELECT json_agg({edge} ORDER BY {t}.created_position) FROM "
                    f"(SELECT * FROM {page} ORDER BY created_position LIMIT {first}) {t}),"
                    " '[]'::json)"
                )
            if name == "pageInfo":
                return self.page_info(group, page, first)
            raise Unsupported

        return self.built("AgreementConnection", nodes, value_of)

    def edge_field(self, name: str, group: list[FieldNode], t: str) -> str:
        if name == "cursor":
            return _cursor("agreements", f"{t}.created_position")
        if name == "node":
            return self.object("Agreement", group, t)
        raise Unsupported

    def page_info(self, nodes: list[FieldNode], page: str, first: str) -> str:
        values = {
            "hasNextPage": f"(SELECT count(*) FROM {page}) > {first}",
            "hasPreviousPage": "false",
            "startCursor": _cursor("agreements", "s.lo"),
            "endCursor": _cursor("agreements", "s.hi"),
        }

        def value_of(name: str, _: list[FieldNode]) -> str:
            if name not in values:
                raise Unsupported
            return values[name]

        return (
            f"(SELECT {self.built('PageInfo', nodes, value_of)} FROM (SELECT "
            f"min(created_position) AS lo, max(created_position) AS hi FROM (SELECT "
            f"created_position FROM {page} ORDER BY created_position LIMIT {first}) x) s)"
        )


def compile_document(
    schema: GraphQLSchema, rules: Sequence[Any], query: str, operation_name: str | None
) -> Plan | None:
    """The plan of a query document, or None when it must take the resolvers' path
    (including every document that would not parse or validate: they report that)."""
    try:
        document = parse(query, max_tokens=MAX_TOKENS)
    except GraphQLError:
        return None
    if validate(schema, document, (*specified_rules, *rules)):
        return None
    operation = get_operation_ast(document, operation_name)
    if operation is None or operation.operation is not OperationType.QUERY:
        return None
    compiler = _Compiler(schema, document)
    roots: list[_Root] = []
    try:
        if operation.directives:
            raise Unsupported
        fields = compiler.grouped("Query", [operation.selection_set])
        for index, (key, group) in enumerate(fields.items()):
            name = group[0].name.value
            if name == "__typename":
                roots.append(_Root(key, name, None, "'Query'::text"))
            elif name in ROOT_LISTS and len(group) == 1:
                sql = compiler.connection(group, f"p{index}")
                roots.append(_Root(key, name, group[0], sql))
            else:
                raise Unsupported
    except Unsupported:
        return None
    return Plan(operation, roots, compiler.needs_sees_all)


# --- running a plan -----------------------------------------------------------------

_PARAMETER = re.compile(r"%\((\w+)\)s")


@dataclass(frozen=True)
class _Page:
    """One root list's checked arguments."""

    index: int
    where: q.AgreementFilter
    after: int | None
    first: int


class CompiledReads:
    """Plans by document text (LRU), and their execution."""

    def __init__(self, schema: GraphQLSchema, rules: Sequence[Any]) -> None:
        self.schema = schema
        self.rules = tuple(rules)
        self._plans: OrderedDict[tuple[str, str | None], Plan | None] = OrderedDict()

    def plan(self, query: str, operation_name: str | None) -> Plan | None:
        key = (query, operation_name)
        if key in self._plans:
            self._plans.move_to_end(key)
            return self._plans[key]
        plan = compile_document(self.schema, self.rules, query, operation_name)
        self._plans[key] = plan
        if len(self._plans) > PLANS_KEPT:
            self._plans.popitem(last=False)
        return plan

    async def execute(
        self,
        ctx: Context,
        query: str,
        variables: dict[str, Any] | None,
        operation_name: str | None,
    ) -> orjson.Fragment | None:
        """The response's `data` as JSON text, or None: the resolvers answer instead."""
        plan = self.plan(query, operation_name)
        if plan is None:
            return None
        try:
            pages = self._pages(plan, ctx, variables or {})
        except Unsupported:
            COMPILED_READS.labels("fallback").inc()
            return None
        viewer = ctx.viewer
        try:
            text = await ctx.read(lambda conn, rm: self._run(conn, rm, plan, pages, viewer))
        except Exception:  # a fault here must not cost the answer: the resolvers give it
            log.exception("compiled read failed; answering with the resolvers")
            COMPILED_READS.labels("failed").inc()
            return None
        COMPILED_READS.labels("served").inc()
        return orjson.Fragment(text)

    def _pages(self, plan: Plan, ctx: Context, variables: dict[str, Any]) -> list[_Page]:
        """Each root list's arguments, checked as its resolver checks them (any
        refusal: the resolver refuses it, with its own error)."""
        if plan.needs_sees_all and not ctx.viewer.sees_all:
            raise Unsupported
        definitions = plan.operation.variable_definitions or ()
        coerced = get_variable_values(self.schema, definitions, variables)
        if isinstance(coerced, list):
            raise Unsupported
        pages = []
        for index, root in enumerate(plan.roots):
            if root.node is None:
                continue
            definition = self.schema.query_type.fields[root.name]  # type: ignore[union-attr]
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

    def _run(
        self, conn: Connection, rm: ReadModel, plan: Plan, pages: list[_Page], viewer: q.Viewer
    ) -> str:
        params: dict[str, Any] = {}
        selects: list[Any] = []
        key: list[Any] = [rm.generation]
        for page in pages:
            select, values = q.agreements_page(rm, viewer, page.where, page.first, page.after)
            prefix = f"p{page.index}_"
            params.update((prefix + k, v) for k, v in values.items())
            params[prefix + "first"] = page.first
            selects.append(select)
            # The page's SQL differs only by the viewer's kind and the filters set.
            key.append((viewer.sees_all, viewer.is_manager, tuple(sorted(values))))
        statement = plan.statements.get(tuple(key))
        if statement is None:  # compiled once per generation and page shapes
            parts = [
                f"p{p.index} AS ({_page_sql(conn, select, f'p{p.index}_')})"
                for p, select in zip(pages, selects, strict=True)
            ]
            body = ", ".join(f'{r.json_sql} AS "{r.key}"' for r in plan.roots)
            with_ = f"WITH {', '.join(parts)} " if parts else ""
            statement = f"{with_}SELECT row_to_json(o)::text FROM (SELECT {body}) o".replace(
                RM, f"rm{rm.generation}_"
            )
            plan.statements[tuple(key)] = statement
        text: str = conn.exec_driver_sql(statement, params).scalar_one()
        return text


def _page_sql(conn: Connection, select: Any, prefix: str) -> str:
    """The page select as SQL text, its parameters renamed with the root's prefix."""
    compiled = str(select.compile(dialect=conn.dialect))
    return _PARAMETER.sub(lambda m: f"%({prefix}{m.group(1)})s", compiled)


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
