"""`python -m api.cli` is `crafting`."""

from api.cli.main import main

main()
