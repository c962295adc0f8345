"""A validated query document compiled into the SQL that builds its `data` JSON."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    NamedTypeNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    is_abstract_type,
)
from graphql.utilities import get_operation_ast

from api.graphql.compiled.columns import CHILD_LISTS, ROOT_LISTS, SCALARS
from api.graphql.compiled.sql import RM, cursor


def edge_list_placeholder(index: int) -> str:
    """Where the edge list `index` goes in the document: a JSON string no other value
    of it can be (the document around the lists holds only type names, page info —
    booleans and base64url cursors — and keys, GraphQL names: none has an `@`)."""
    return f'"@{index}"'


class Unsupported(Exception):
    """This document (or request) takes the resolvers' path."""


@dataclass
class Root:
    """One root field of the operation and the SQL of its JSON."""

    key: str
    name: str  # agreements | __typename
    node: FieldNode | None
    json_sql: str  # uses the page CTE named after the root's index


@dataclass
class Plan:
    """One validated document's operation, compiled."""

    operation: OperationDefinitionNode
    roots: list[Root]
    needs_sees_all: bool  # selects Person.manager (whose visibility is per row)
    # One select per `edges` list: rows of (list index, position, the edge's JSON). The
    # document holds `edge_list_placeholder(index)` where the list goes: a page built as
    # one JSON value is copied whole at every level that wraps it (json_agg, then each
    # enclosing object), ~20% of PostgreSQL's time for a 100-agreement page; as rows,
    # each edge is built once and Python joins them.
    edge_lists: list[str] = field(default_factory=list)
    # Each edge list's page (its CTE's name), and the list as built for a page whose
    # agreements are consecutive in creation order (`Ranged`): its select and the CTEs
    # that select joins.
    edge_pages: list[str] = field(default_factory=list)
    ranged_edge_lists: list[tuple[str, list[str]]] = field(default_factory=list)
    statements: dict[tuple[Any, ...], str] = field(default_factory=dict)


def compile_document(
    schema: GraphQLSchema, document: DocumentNode, operation_name: str | None
) -> Plan | None:
    """The plan of a validated document's operation, or None when it must take the
    resolvers' path."""
    operation = get_operation_ast(document, operation_name)
    if operation is None or operation.operation is not OperationType.QUERY:
        return None
    compiler = _Compiler(schema, document)
    roots: list[Root] = []
    try:
        if operation.directives:
            raise Unsupported
        fields = compiler.grouped("Query", [operation.selection_set])
        for index, (key, group) in enumerate(fields.items()):
            name = group[0].name.value
            if name == "__typename":
                roots.append(Root(key, name, None, "'Query'::text"))
            elif name in ROOT_LISTS and len(group) == 1:
                sql = compiler.connection(group, f"p{index}")
                roots.append(Root(key, name, group[0], sql))
            else:
                raise Unsupported
    except Unsupported:
        return None
    return Plan(
        operation,
        roots,
        compiler.needs_sees_all,
        compiler.edge_lists,
        compiler.edge_pages,
        compiler.ranged_edge_lists,
    )


@dataclass
class Ranged:
    """An edge list being built for a page whose agreements are consecutive in creation
    order (no filter, a viewer who sees all): each child list (and the latest review)
    is read for the whole page with one range scan of its `(agreement_position, ...)`
    index, grouped by agreement in a CTE and joined to its agreement, instead of one
    index descent per agreement and kind (bench/RESULTS.md, ninth session, hris28d).
    Any page gives the same rows (the join is by agreement); a sparse page would read
    the children of every agreement in its range, so it is used on dense pages only."""

    page: str  # the page CTE
    row: str  # the alias of the page's agreement row
    ctes: list[str] = field(default_factory=list)
    joins: list[str] = field(default_factory=list)

    def of_page(self, c: str) -> str:
        """The condition that `c`'s rows are children of the page's range."""
        return (
            f"{c}.agreement_position >= (SELECT min(created_position) FROM {self.page}) AND "
            f"{c}.agreement_position <= (SELECT max(created_position) FROM {self.page})"
        )

    def joined(self, r: str, select: str) -> str:
        """`select` (its rows keyed `k` by agreement position) as the CTE `r`, joined to
        the page's agreement row; returns `r`."""
        self.ctes.append(f"{r} AS ({select})")
        self.joins.append(f"LEFT JOIN {r} ON {r}.k = {self.row}.created_position")
        return r


class _Compiler:
    def __init__(self, schema: GraphQLSchema, document: DocumentNode) -> None:
        self.schema = schema
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.aliases = 0
        self.needs_sees_all = False
        self.edge_lists: list[str] = []
        self.edge_pages: list[str] = []
        self.ranged_edge_lists: list[tuple[str, list[str]]] = []
        self.ranged: Ranged | None = None  # while building an edge list for a dense page

    def alias(self, prefix: str = "t") -> str:
        self.aliases += 1
        return f"{prefix}{self.aliases}"

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
        joins: list[str] | None = None,
    ) -> str:
        """The selection on `type_name` as a JSON object, each field's SQL from
        `value_of(field name, its nodes)`.

        With `joins` (the FROM items of a per-row scope) the object is a row of a
        `LATERAL` subquery appended there, and the SQL is that row: PostgreSQL pulls the
        subquery up into its parent, so the row is built in line with no subplan per
        object, and `row_to_json`/`json_agg` print it with its column names as keys
        (no spaces). Nested objects append their own subqueries first. Without `joins`
        (once-per-response objects) it is `row_to_json` of a one-row subselect."""
        columns: list[str] = []
        for key, group in self.fields(type_name, nodes).items():
            name = group[0].name.value
            value = f"'{type_name}'::text" if name == "__typename" else value_of(name, group)
            columns.append(f'{value} AS "{key}"')
        select = f"SELECT {', '.join(columns)}"
        if joins is None:
            return f"(SELECT row_to_json(o) FROM ({select}) o)"
        row = self.alias("o")
        joins.append(f"CROSS JOIN LATERAL ({select}) {row}")
        return row

    def object(self, type_name: str, nodes: Sequence[FieldNode], t: str, joins: list[str]) -> str:
        """The selection on the row `t` of `type_name`, built in the scope `joins`."""
        return self.built(
            type_name, nodes, lambda _, group: self.field(type_name, group, t, joins), joins
        )

    def field(self, type_name: str, nodes: list[FieldNode], t: str, joins: list[str]) -> str:
        name = nodes[0].name.value
        scalar = SCALARS.get(type_name, {}).get(name)
        if scalar is not None:
            return scalar(t)
        if type_name == "Agreement":
            return self.agreement_field(name, nodes, t, joins)
        if type_name == "Person" and name == "manager":
            self.needs_sees_all = True
            return self.person(nodes, f"{t}.manager_id")
        raise Unsupported

    def agreement_field(self, name: str, nodes: list[FieldNode], t: str, joins: list[str]) -> str:
        if name == "careerGoal":
            return self.object("CareerGoal", nodes, t, joins)
        if name == "guardrails":
            empty = f"{t}.guardrails IS NULL OR {t}.guardrails::text = 'null'"
            return (
                f"CASE WHEN {empty} THEN NULL ELSE {self.object('Guardrails', nodes, t, joins)} END"
            )
        if name == "employee":
            # Whoever sees an agreement may see its employee (api.graphql.context).
            return self.person(nodes, f"{t}.employee_id")
        # One subquery per child kind and agreement (an index range); its rows are
        # built in line (`built`), so a list costs one subplan, not one per element.
        ranged = self.ranged if self.ranged is not None and self.ranged.row == t else None
        if name in CHILD_LISTS:
            table, type_name, order = CHILD_LISTS[name]
            c, row, from_ = self.rows_of(table, type_name, nodes)
            ordered = ", ".join(f"{c}.{column}" for column in order)
            if ranged is not None:
                r = ranged.joined(
                    self.alias("r"),
                    f"SELECT {c}.agreement_position AS k, json_agg(row_to_json({row}) "
                    f"ORDER BY {ordered}) AS j FROM {from_} WHERE {ranged.of_page(c)} "
                    f"GROUP BY {c}.agreement_position",
                )
                return f"coalesce({r}.j, '[]'::json)"
            return (
                f"coalesce((SELECT json_agg(row_to_json({row}) ORDER BY {ordered}) FROM {from_} "
                f"WHERE {c}.agreement_id = {t}.agreement_id), '[]'::json)"
            )
        if name == "latestReview":
            c, row, from_ = self.rows_of("reviews", "Review", nodes)
            if ranged is not None:
                # Each agreement's latest: the range read backwards, its first per agreement.
                r = ranged.joined(
                    self.alias("r"),
                    f"SELECT DISTINCT ON ({c}.agreement_position) "
                    f"{c}.agreement_position AS k, {row} AS j FROM {from_} "
                    f"WHERE {ranged.of_page(c)} "
                    f"ORDER BY {c}.agreement_position DESC, {c}.position DESC",
                )
                return f"{r}.j"
            return (
                f"(SELECT {row} FROM {from_} WHERE {c}.agreement_id = {t}.agreement_id "
                f"ORDER BY {c}.position DESC LIMIT 1)"
            )
        raise Unsupported

    def person(self, nodes: list[FieldNode], person_id_sql: str) -> str:
        # A subquery, not a join: no person is null, not an object of nulls.
        c, row, from_ = self.rows_of("people", "Person", nodes)
        return f"(SELECT {row} FROM {from_} WHERE {c}.person_id = {person_id_sql})"

    def rows_of(self, table: str, type_name: str, nodes: list[FieldNode]) -> tuple[str, str, str]:
        """The read table `table` under a new alias, each row built as `type_name`: the
        alias, the built row, and the FROM clause that builds it."""
        c = self.alias()
        joins: list[str] = []
        row = self.object(type_name, nodes, c, joins)
        return c, row, " ".join([f"{RM}{table} {c}", *joins])

    def connection(self, nodes: Sequence[FieldNode], page: str) -> str:
        """An AgreementConnection over the page CTE `page` (its first+1 rows)."""
        first = f"%({page}_first)s"

        def value_of(name: str, group: list[FieldNode]) -> str:
            if name == "edges":
                # Each edge is a row of its own, spliced into the document by
                # `plans` where this placeholder stands (see `Plan.edge_lists`).
                index = len(self.edge_lists)
                self.edge_lists.append(self.edge_list(index, group, page, first))
                self.edge_pages.append(page)
                ranged = Ranged(page, "")
                select = self.edge_list(index, group, page, first, ranged=ranged)
                self.ranged_edge_lists.append((select, ranged.ctes))
                return f"'{edge_list_placeholder(index)}'::json"
            if name == "pageInfo":
                return self.page_info(group, page, first)
            raise Unsupported

        return self.built("AgreementConnection", nodes, value_of)

    def edge_list(
        self,
        index: int,
        group: list[FieldNode],
        page: str,
        first: str,
        ranged: Ranged | None = None,
    ) -> str:
        """The select of the edge list `index`: rows of (index, position, edge JSON);
        with `ranged`, its child lists read by range (`Ranged`)."""
        t = self.alias()
        joins: list[str] = []
        if ranged is not None:
            ranged.row = t
        self.ranged = ranged
        try:
            edge = self.built(
                "AgreementEdge", group, lambda n, g: self.edge_field(n, g, t, joins), joins
            )
        finally:
            self.ranged = None
        front = ranged.joins if ranged is not None else []
        return (
            f"SELECT {index}, {t}.created_position, row_to_json({edge})::text FROM "
            f"(SELECT * FROM {page} ORDER BY created_position LIMIT {first}) {t} "
            f"{' '.join([*front, *joins])}"
        )

    def edge_field(self, name: str, group: list[FieldNode], t: str, joins: list[str]) -> str:
        if name == "cursor":
            return cursor("agreements", f"{t}.created_position")
        if name == "node":
            return self.object("Agreement", group, t, joins)
        raise Unsupported

    def page_info(self, nodes: list[FieldNode], page: str, first: str) -> str:
        values = {
            "hasNextPage": f"(SELECT count(*) FROM {page}) > {first}",
            "hasPreviousPage": "false",
            "startCursor": cursor("agreements", "s.lo"),
            "endCursor": cursor("agreements", "s.hi"),
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
