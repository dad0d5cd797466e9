"""The subcommands of `quotebot`, one module per audience's group of commands."""
