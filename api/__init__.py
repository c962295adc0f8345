"""The front doors: GraphQL, the web app, SCIM, health and metrics over HTTP, and the
`crafting` command line."""
