"""HTTP plumbing shared by the front doors: bearer tokens (`auth`), request ids and
access logs (`middleware`, `logs`), rate limits and metrics."""
