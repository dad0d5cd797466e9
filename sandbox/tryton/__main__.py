"""`python -m sandbox.tryton`: install Tryton and seed today's test world now, once per
machine and day, so that the tests (`make test` runs this first) only copy a database."""

from __future__ import annotations

import sys
import time

from sandbox.tryton import prepare


def main() -> int:
    started = time.monotonic()
    sys.stdout.write("Tryton: installing (once per machine) and seeding today's world…\n")
    sys.stdout.flush()
    root = prepare()
    sys.stdout.write(f"Tryton ready in {root} ({time.monotonic() - started:.0f} s)\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
