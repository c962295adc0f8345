"""Aggregate figures about people with a minimum group size (docs/insights.md): what
they are read from, how they are computed and suppressed, who sees which."""
