"""The Relay `Node` interface."""

from __future__ import annotations

import strawberry


@strawberry.interface(description="An object with an opaque global id (Relay).")
class Node:
    id: strawberry.ID  # every implementing type resolves its own
