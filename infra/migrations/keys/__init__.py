"""The migrations of the data-key table (see infra.migrations)."""
