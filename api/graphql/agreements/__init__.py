"""Agreements in GraphQL: their types, queries, mutations and inputs."""
