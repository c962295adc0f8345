"""GraphQL at /graphql: the schema, one folder per feature, and the compiled fast path."""
