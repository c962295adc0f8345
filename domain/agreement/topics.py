"""The names the agreement's classes are stored under.

A stored event names its class by a topic, `module:qualname`, and that topic is hashed
into the stream's chain and read by exporters: it is part of the stored format. So the
classes keep the topics of the first release (`domain.agreement:Agreement`,
`domain.agreement_events:Proposed`, ...) wherever the code that defines them lives.
"""

from __future__ import annotations

from eventsourcing.utils import get_topic


def keep_stored_topics(module: str, *classes: type) -> None:
    """Store and resolve `classes` (and the classes nested in them) under `module`."""
    for cls in classes:
        cls.__module__ = module
        get_topic(cls)  # caches the topic both ways: writing names it, reading finds it
        inner = f"{cls.__qualname__}."
        keep_stored_topics(
            module,
            *(
                v
                for v in vars(cls).values()
                if isinstance(v, type) and v.__qualname__.startswith(inner)
            ),
        )
