"""The migrations of the service's operational tables (see infra.migrations)."""
