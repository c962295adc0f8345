"""People in GraphQL: the directory, the caller, team workload and career evidence."""
