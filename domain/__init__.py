"""The rules: aggregates, events, commands and who may do what; imports nothing of ours."""
