"""Benchmarks (see README.md here). Every process a benchmark starts on one database
shares one master key, as a deployment does (CRAFTING_MASTER_KEY, made once per run)."""

import base64
import os
import secrets

os.environ.setdefault("CRAFTING_MASTER_KEY", base64.b64encode(secrets.token_bytes(32)).decode())
