"""`python -m assistant` runs the `review` CLI."""

from .cli import main

main()
