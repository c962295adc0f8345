"""A sending process for the crash tests: plans and sends until nothing waits."""

from __future__ import annotations

import time

from infra.bootstrap import bootstrap
from infra.secrets import jwt_secret


def main() -> None:
    container = bootstrap()
    try:
        notify = container.notifications(jwt_secret(container.settings, create=False))
        container.prepare()
        deadline = time.time() + 60
        while time.time() < deadline:
            notify.round()
            if notify.backlog().pending == 0:
                return
            time.sleep(0.05)
        raise SystemExit("messages still waiting")
    finally:
        container.close()


if __name__ == "__main__":
    main()
