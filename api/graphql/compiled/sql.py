"""SQL expressions that print values exactly as the resolvers' JSON does."""

from __future__ import annotations

from collections.abc import Callable

# Where a generation's table prefix goes in compiled SQL; braces never occur in
# GraphQL names, the only text taken from a query.
RM = "{rm}"

SqlOf = Callable[[str], str]  # table alias -> SQL expression


def column(name: str) -> SqlOf:
    """The column as it is (its JSON is the resolvers')."""
    return lambda t: f"{t}.{name}"


def json_key(name: str, key: str) -> SqlOf:
    """The value at `key` of the JSON column `name`."""
    return lambda t: f"{t}.{name}->'{key}'"


def float_column(name: str) -> SqlOf:
    """A float column as Python prints it: whole floats keep their `.0`."""

    # PostgreSQL prints 4.0 as "4".
    def sql(t: str) -> str:
        c = f"{t}.{name}"
        return (
            f"(CASE WHEN {c} = trunc({c}) AND abs({c}) < 1e15 "
            f"THEN trunc({c})::bigint::text || '.0' ELSE {c}::text END)::json"
        )

    return sql


def instant_column(name: str) -> SqlOf:
    """A timestamptz column as datetime.isoformat() in UTC."""

    # isoformat() prints microseconds only when there are any.
    def sql(t: str) -> str:
        text = f"to_char({t}.{name} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US+00:00')"
        return f"replace({text}, '.000000+', '+')"

    return sql


def base64url(text_sql: str) -> str:
    """api.graphql.ids._encode in SQL: URL-safe base64 without padding."""
    # PostgreSQL wraps base64 lines at 76 characters; the newlines go with the translation.
    return (
        f"rtrim(translate(encode(convert_to({text_sql}, 'UTF8'), 'base64'), E'+/\\n', '-_'), '=')"
    )


def global_id_column(type_name: str, name: str) -> SqlOf:
    """The global id of the `type_name` whose key is the column `name`."""
    return lambda t: base64url(f"'{type_name}:' || {t}.{name}")


def cursor(kind: str, position_sql: str) -> str:
    """A list's cursor at the position `position_sql`."""
    return base64url(f"'{kind}|' || {position_sql}::text")
