"""`python -m quotebot …`: the same command line as the `quotebot` script."""

from quotebot._cli import main

main()
