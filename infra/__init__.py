"""Settings and wiring: the event stores, engines, keys, migrations, audit and webhook delivery."""
