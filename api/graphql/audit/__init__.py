"""The audit in GraphQL: the audit log, the change feed and integrity checks."""
