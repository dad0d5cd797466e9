"""A signed-in page's latency while 16 people hammer the sign-in form with wrong passwords.

    .venv/bin/python benchmarks/signin_bench.py [--guessers 16] [--samples 200]

Serves the real app on localhost (a SQLite store in a temporary folder), signs a manager
in, and times `GET /review` first on a quiet server (the baseline) and then while
`--guessers` threads keep posting wrong passwords for unknown names. Argon2 and the
database calls of a sign-in run off the event loop, at most two hashes at once, so the
page should stay within a few times its quiet latency (it took 1.9 s instead of 4 ms when
they ran on the loop).
"""

# ruff: noqa: T201  (a benchmark prints its figures)
from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import threading
import time
from pathlib import Path

import httpx
from loguru import logger

from store import open_store
from web import WebServer, WebSettings, create_app, hash_password

PASSWORD = "benchmark password"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _sign_in(web: httpx.Client, name: str, password: str) -> int:
    found = _CSRF.search(web.get("/login").text)
    assert found
    form = {"username": name, "password": password, "csrf_token": found.group(1)}
    return web.post("/login", data=form).status_code


class _NoWaits:
    """Every guess goes through argon2: the flood measured is hashing, not cheap 429s."""

    def wait(self, *_: object) -> float:
        return 0.0

    def failed(self, *_: object) -> None:
        pass

    def succeeded(self, *_: object) -> None:
        pass


def _latencies(web: httpx.Client, samples: int) -> list[float]:
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        assert web.get("/review").status_code == 200
        times.append(time.perf_counter() - started)
    return times


def _report(label: str, times: list[float]) -> float:
    median = statistics.median(times)
    p90 = statistics.quantiles(times, n=10)[-1]
    print(f"{label:<34} median {median * 1000:7.1f} ms   p90 {p90 * 1000:7.1f} ms")
    return median


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--guessers", type=int, default=16)
    parser.add_argument("--samples", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        store = open_store(f"sqlite:///{Path(folder) / 'quotebot.sqlite'}")
        store.add_user("mia", "manager", hash_password(PASSWORD), all_engagements=True)
        app = create_app(store, WebSettings(secret_key="b" * 48))
        app.state.throttle = _NoWaits()
        logger.remove()  # sixteen warnings a second would be the benchmark's own load
        with WebServer(app) as base_url, httpx.Client(base_url=base_url) as web:
            assert _sign_in(web, "mia", PASSWORD) in {200, 303}
            _latencies(web, 5)  # warm up
            quiet = _report("signed-in page, quiet", _latencies(web, args.samples))
            stop = threading.Event()
            tried = [0]

            def guess(n: int) -> None:
                with httpx.Client(base_url=base_url, timeout=60) as own:
                    while not stop.is_set():
                        assert _sign_in(own, f"stranger{n}", "wrong password") == 401
                        tried[0] += 1

            threads = [threading.Thread(target=guess, args=(n,)) for n in range(args.guessers)]
            for thread in threads:
                thread.start()
            time.sleep(1.0)  # the flood is under way
            loaded = _report(
                f"... with {args.guessers} parallel wrong passwords",
                _latencies(web, args.samples),
            )
            stop.set()
            for thread in threads:
                thread.join()
        store.close()
    print(f"wrong passwords tried during the loaded samples: {tried[0]}")
    print(f"loaded / quiet median: {loaded / quiet:.1f}x (was ~475x: 1.9 s vs 4 ms)")


if __name__ == "__main__":
    main()
