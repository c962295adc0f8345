"""The insights query: aggregate figures with a minimum group size (docs/insights.md)."""
