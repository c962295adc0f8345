"""Agreement lists compiled into one SQL statement that builds the response (PostgreSQL).

An integration's sync — `agreements(first: 100)` with each agreement's employee,
adjustments, reallocations and latest review — is the hottest read. Resolved field by
field it costs thousands of Python calls per page. Here a query document whose every
field maps onto the read tables is compiled once (per text) into SQL that builds the
`data` JSON inside PostgreSQL, as PostGraphile and Hasura do; each request only checks
its arguments, binds them, runs that one statement and splices its text into the
response (`orjson.Fragment`). Objects are rows of LATERAL subqueries (built in line, no
subplan per object), and each edge comes back as a row of its own, joined into the
document in Python (a page built as one value is copied whole at every level around it).

It changes nothing a client can see:
- the page is `projections.queries.agreements_page`, the statement the resolvers run,
  so the caller's row filter is the same SQL;
- it runs as a schema extension after strawberry has parsed and validated the document
  (the schema's caches, limits and rules), and only sets the result the executor would
  otherwise compute, so errors, masking and hooks stay the schema's own; a text it
  has compiled is then answered by the lean route (api.graphql.compiled_route) before
  FastAPI and strawberry, which passes every other request and every refusal on;
- arguments go through the resolvers' own check (`agreements_arguments`); another root
  field (`reviewsDue` included), a directive, `consistentWith`, refused arguments, or a
  nested `manager` for a caller who does not see everyone all take the resolvers' path,
  so every error is theirs;
- values are formatted as the resolvers format them (floats with their `.0`,
  instants as Python's `isoformat()` in UTC, global ids and cursors byte for byte) —
  tests compare both paths' responses as text.

Modules: `sql` (values formatted in SQL), `columns` (what each GraphQL type's fields
are in the read tables), `compiler` (document to plan), `plans` (the plan cache and
running a plan), `extension` (the schema extension that serves it).
"""
