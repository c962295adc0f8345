"""Every field of every type the compiled reads reach is either compiled or listed as
left to the resolvers: a field added to the schema but not to the compiled map fails
here, instead of slipping unnoticed onto the slow path."""

from __future__ import annotations

import graphql
import pytest
from graphql import GraphQLObjectType, get_named_type, is_leaf_type, parse

from api.graphql.compiled.columns import CHILD_LISTS, LEFT_TO_RESOLVERS, SCALARS
from api.graphql.compiled.compiler import compile_document
from api.graphql.schema import sdl

SCHEMA = graphql.build_schema(sdl())
Path = tuple[str, ...]


def _compiles(path: Path, field: str, leaf: bool) -> bool:
    """Whether a query selecting `field` at the end of `path` compiles."""
    selection = field if leaf else f"{field} {{ __typename }}"
    for name in reversed(path):
        selection = f"{name} {{ {selection} }}"
    return compile_document(SCHEMA, parse(f"{{ {selection} }}"), None) is not None


def _reached() -> dict[str, dict[str, bool]]:
    """Each object type the compiler reaches from the root through fields it compiles,
    with whether it compiles each of its fields."""
    reached: dict[str, dict[str, bool]] = {}
    queue: list[tuple[str, Path]] = [("Query", ())]
    while queue:
        type_name, path = queue.pop(0)
        if type_name in reached:
            continue
        type_ = SCHEMA.get_type(type_name)
        assert isinstance(type_, GraphQLObjectType), type_name
        reached[type_name] = {}
        for name, definition in type_.fields.items():
            named = get_named_type(definition.type)
            leaf = is_leaf_type(named)
            compiled = reached[type_name][name] = _compiles(path, name, leaf)
            if compiled and not leaf:
                queue.append((named.name, (*path, name)))
    return reached


REACHED = _reached()


@pytest.mark.parametrize("type_name", sorted(REACHED))
def test_every_field_of_a_compiled_type_is_compiled_or_left_to_the_resolvers(
    type_name: str,
) -> None:
    not_compiled = {name for name, compiled in REACHED[type_name].items() if not compiled}
    left = set(LEFT_TO_RESOLVERS.get(type_name, {}))
    assert not_compiled - left == set(), (
        f"{type_name}: map these fields in api/graphql/compiled (columns.py, compiler.py) "
        "or list them in LEFT_TO_RESOLVERS"
    )
    assert left - not_compiled == set(), f"{type_name}: listed as left to the resolvers"


def test_the_compiled_map_names_only_fields_the_schema_has() -> None:
    for type_name, columns in SCALARS.items():
        assert type_name in REACHED, type_name
        assert set(columns) <= set(REACHED[type_name]), type_name
    for field, (_, type_name, _) in CHILD_LISTS.items():
        assert REACHED["Agreement"][field], field
        assert type_name in REACHED, type_name
    assert set(LEFT_TO_RESOLVERS) <= set(REACHED)
