"""The web app at /: server-rendered pages (Jinja templates in `templates/`) on the same
ports and rules as GraphQL."""
