"""Benchmark: quotes per minute of the quoting bots against the acme sandbox (issue 4).

    .venv/bin/python benchmarks/bot_bench.py [--workers 1,2,4,8] [--opportunities 30]
                                             [--bare 1,4] [--latency-ms 150] [--quick]
                                             [--fleet 1,2,4 [--pg URL]] [--keep DIR]

For each worker count, and for 1 and 4 bare Playwright scripts side by side
(`_bare_acme.py`, no framework; 4 of them show what the machine itself allows 4
browsers): a freshly generated acme portal served by a process of its own with a fixed
latency on every request, a fresh quotebot store, and a measuring process of
its own. Quotes per minute counts the quotes entered, read back and audited (work items
that reach verified or flagged) over the wall time of the run, browser start and login
included. Peak RSS is the largest sum, sampled every 100 ms, of the resident memory of the
measuring process and all its descendants (Playwright's driver, Chromium and its
renderers); the portal's process is not among them. RSS sums count pages shared between
Chromium's processes once per process, so they overstate the memory really used.

With `--fleet 1,2,4`, also N `quotebot worker --slots 1` processes sharing one run on a
fresh PostgreSQL database (`--pg`'s server), timed from starting the worker processes
(their Python, driver and browser start included) until the run has ended.

Targets (printed, never asserted): the framework's one worker reaches at least 1/1.2 of
the bare script's rate, and 4 workers at least 3x one worker; N fleet workers within 10%
of N bare scripts side by side, at every N measured both ways.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import click

REPO = Path(__file__).resolve().parents[1]
TODAY = date(2026, 1, 15)
WINDOW_DAYS = 366  # the generator spreads contract ends over the year after today
SEED = 7
USER_ENV, PASSWORD_ENV = "QB_BENCH_ACME_USER", "QB_BENCH_ACME_PASSWORD"
OVERHEAD_TARGET = 1.2
RATE_TARGET = 1.10  # issue 28: at most this much slower than as many bare scripts
CPU_TARGET = 1.3  # issue 28: CPU per quote at most this many times the bare script's
PROFILE_ENV = "QB_BENCH_PROFILE"
SPEEDUP_TARGET = 3.0
FLEET_TARGET = 1.1
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


# -- memory -------------------------------------------------------------------------------


def _processes() -> dict[int, tuple[int, int]]:
    """Every process: pid -> (parent pid, CPU ticks used so far), from /proc/<pid>/stat."""
    found: dict[int, tuple[int, int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="ascii", errors="replace") as f:
                stat = f.read()
        except OSError:
            continue  # gone meanwhile
        fields = stat[stat.rfind(")") + 2 :].split()
        found[int(entry.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
    return found


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0  # gone, or a zombie


def process_tree(root: int, processes: dict[int, tuple[int, int]]) -> list[int]:
    """`root` and all its descendants."""
    children: dict[int, list[int]] = {}
    for pid, (ppid, _ticks) in processes.items():
        children.setdefault(ppid, []).append(pid)
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo += children.get(pid, [])
    return tree


class TreeSampler(threading.Thread):
    """Samples a process tree every `interval` seconds until stopped: the peak of its summed
    RSS, and the CPU time its processes used (each process's last sample; a process that
    lives less than an interval is missed, those that matter live for the whole run)."""

    def __init__(self, root: int, interval: float = 0.1) -> None:
        super().__init__(name="tree-sampler", daemon=True)
        self.root, self.interval = root, interval
        self.peak_kb = self.peak_processes = 0
        self._ticks: dict[int, int] = {}
        self._kinds: dict[int, str] = {}
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(self.interval):
            processes = _processes()
            tree = process_tree(self.root, processes)
            kb = sum(_rss_kb(pid) for pid in tree)
            if kb > self.peak_kb:
                self.peak_kb, self.peak_processes = kb, len(tree)
            for pid in tree:
                if pid in processes:
                    self._ticks[pid] = processes[pid][1]
                    if pid not in self._kinds:
                        self._kinds[pid] = _kind(pid)

    @property
    def cpu_seconds(self) -> float:
        return sum(self._ticks.values()) / os.sysconf("SC_CLK_TCK")

    @property
    def cpu_by_kind(self) -> dict[str, float]:
        """CPU seconds of the Python process, Playwright's driver (node) and the browser."""
        found: dict[str, float] = {}
        for pid, ticks in self._ticks.items():
            kind = self._kinds.get(pid, "other")
            found[kind] = found.get(kind, 0.0) + ticks / os.sysconf("SC_CLK_TCK")
        return found

    def stop(self) -> None:
        self._done.set()
        self.join()


def _kind(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm", encoding="ascii", errors="replace") as f:
            name = f.read().strip()
    except OSError:
        return "other"
    if name.startswith("python"):
        return "python"
    if name.startswith("node"):  # node-MainThread
        return "driver"
    if "chrom" in name or "headless" in name:
        return "browser"
    return "other"


def cpu_seconds(pid: int) -> float:
    """CPU time one process has used so far."""
    ticks = _processes().get(pid, (0, 0))[1]
    return ticks / os.sysconf("SC_CLK_TCK")


# -- the portal -----------------------------------------------------------------------------


class Portal:
    """A fresh acme portal in a process of its own: `python -m sandbox.server serve`."""

    def __init__(self, folder: Path, opportunities: int, latency_ms: int) -> None:
        self.folder = folder
        command = [
            sys.executable,
            "-m",
            "sandbox.server",
            "serve",
            "--flavour",
            "acme",
            "--seed",
            str(SEED),
            "--opportunities",
            str(opportunities),
            "--today",
            TODAY.isoformat(),
            "--data-dir",
            str(folder),
            "--port",
            "0",
        ]
        if latency_ms:
            command += ["--latency", f"{latency_ms}-{latency_ms}"]
        self.process = subprocess.Popen(
            command, cwd=REPO, stdout=subprocess.PIPE, text=True, bufsize=1
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        found = re.search(r"http://[\d.]+:\d+", line)
        if found is None:
            self.close()
            raise RuntimeError(f"the sandbox portal did not start: {line!r}")
        self.url = found.group(0)

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# -- one measurement, in a process of its own ----------------------------------------------


def _engagement(url: str, data_dir: Path, workers: int, fingerprints: bool = True) -> Any:
    from schemas.engagement import Engagement, QuoteWindow, Repair

    return Engagement(
        name="bench",
        flavour="acme",
        url=url,
        username_env=USER_ENV,
        password_env=PASSWORD_ENV,
        selectors=REPO / "selectors" / "acme.yaml",
        rules=data_dir / "rules.yaml",
        window=QuoteWindow(days_from=0, days_to=WINDOW_DAYS),
        workers=workers,
        repair=Repair(fingerprints=fingerprints),
    )


def _profiled(run: Any, folder: str | None, name: str) -> Any:
    """`run()`, with every thread's Python profiled into `folder` when one is given (the
    profile slows the run: its timings are not the benchmark's)."""
    if not folder:
        return run()
    import cProfile
    import io
    import pstats

    profiles: list[cProfile.Profile] = []

    def start_in_thread(*_: Any) -> None:
        sys.setprofile(None)
        profile = cProfile.Profile(time.thread_time)  # CPU, not waiting for the portal
        profiles.append(profile)
        profile.enable()

    threading.setprofile(start_in_thread)
    main = cProfile.Profile(time.thread_time)
    main.enable()
    try:
        return run()
    finally:
        main.disable()
        threading.setprofile(None)
        stats = pstats.Stats(main)
        for profile in profiles:
            profile.disable()  # the worker threads have ended: their profiles are complete
            stats.add(profile)
        stats.dump_stats(Path(folder) / f"{name}.pstats")
        text = io.StringIO()
        pstats.Stats(str(Path(folder) / f"{name}.pstats"), stream=text).sort_stats(
            "tottime"
        ).print_stats(40)
        (Path(folder) / f"{name}.txt").write_text(text.getvalue(), encoding="utf-8")


def _measure_framework(
    url: str, data_dir: Path, work: Path, workers: int, fingerprints: bool = True
) -> dict[str, Any]:
    from bots import RunOptions, run_engagement
    from schemas.settings import Settings
    from store import open_store

    engagement = _engagement(url, data_dir, workers, fingerprints)
    database = f"sqlite:///{work / 'quotebot.sqlite'}"
    store = open_store(database)
    # one database, as `quotebot run` has: the fingerprints are kept in the run's store
    settings = Settings(home=work / "home", database_url=database)
    options = RunOptions(workers=workers, today=TODAY, progress=False)
    started = time.perf_counter()
    result = run_engagement(engagement, "quote", store, settings=settings, options=options)
    seconds = time.perf_counter() - started
    counts = dict(result.counts)
    return {
        "quotes": counts.get("verified", 0) + counts.get("flagged", 0),
        "seconds": seconds,
        "counts": counts,
        "drift": str(result.drift) if result.drift else None,
    }


def write_engagement(engagement: Any, work: Path) -> Path:
    """The engagements file of `engagement` alone, as worker processes read it."""
    import yaml

    config = work / "engagements.yaml"
    doc = {"engagements": [engagement.model_dump(mode="json", exclude_none=True)]}
    config.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return config


def fleet_env(home: Path, db: str, **extra: str) -> dict[str, str]:
    """The environment of a `quotebot worker` on the fleet database `db`."""
    return {
        **os.environ,
        "QUOTEBOT_HOME": str(home),
        "QUOTEBOT_DATABASE_URL": db,
        "QUOTEBOT_FLEET": "true",
        **extra,
    }


def _measure_fleet(url: str, data_dir: Path, work: Path, workers: int, pg: str) -> dict[str, Any]:
    """`workers` worker processes of one slot each, children of this measuring process (so
    that the sampler counts their browsers), sharing one quote run deferred to the fleet."""

    from bots import start_fleet_run, tasks
    from schemas.settings import Settings
    from schemas.work import RunStatus
    from store import open_store, scratch_database

    engagement = _engagement(url, data_dir, 1)
    config = write_engagement(engagement, work)
    with scratch_database(pg, "quotebot_bench") as db, open_store(db) as store:
        settings = Settings(home=work / "home", database_url=db, fleet=True)
        env = fleet_env(settings.home, db)
        command = [sys.executable, "-m", "quotebot", "worker", "--slots", "1"]
        command += ["--engagements", str(config)]
        logs = [(work / f"worker{n}.log").open("wb") for n in range(workers)]
        started = time.perf_counter()
        processes = [
            subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
            for log in logs
        ]
        try:
            app = store.task_queue(tasks)
            with app.open():
                run = start_fleet_run(store, app, engagement, "quote", TODAY, settings)
            while (run := store.run(run.id)).status is RunStatus.RUNNING:
                if any(p.poll() is not None for p in processes):
                    raise RuntimeError(f"a worker exited early; see {work}/worker*.log")
                time.sleep(0.1)
            seconds = time.perf_counter() - started
        finally:
            for p in processes:
                p.terminate()
            for p in processes:
                p.wait(timeout=60)
            for log in logs:
                log.close()
        counts = {str(k): v for k, v in run.counts.items()}
    return {
        "quotes": counts.get("verified", 0) + counts.get("flagged", 0),
        "seconds": seconds,
        "counts": counts,
        "error": run.error if run.status is not RunStatus.SUCCEEDED else None,
    }


def _measure_bare(url: str, data_dir: Path, scripts: int) -> dict[str, Any]:
    """`scripts` bare scripts side by side, each in a thread with its own Playwright and
    browser, each quoting its share of the due renewals."""
    from concurrent.futures import ThreadPoolExecutor

    from _bare_acme import run_bare

    from schemas import load_rules

    rules = load_rules(data_dir / "rules.yaml")
    end = TODAY + timedelta(days=WINDOW_DAYS)
    user, password = os.environ[USER_ENV], os.environ[PASSWORD_ENV]
    started = time.perf_counter()
    with ThreadPoolExecutor(scripts) as pool:
        results = list(
            pool.map(
                lambda i: run_bare(url, user, password, rules, TODAY, end, (i, scripts)),
                range(scripts),
            )
        )
    return {
        "quotes": sum(r.quotes for r in results),
        "seconds": time.perf_counter() - started,
        "counts": {
            "verified": sum(r.verified for r in results),
            "flagged": sum(r.flagged for r in results),
            "unpriceable": sum(r.unpriceable for r in results),
            "page_loads": sum(r.page_loads for r in results),
        },
    }


@dataclass
class Measurement:
    label: str
    workers: int
    quotes: int
    seconds: float
    peak_rss_mb: float
    processes: int
    cpu_s: float
    """CPU time of the measuring process tree (Python, Playwright's driver, Chromium)."""
    portal_cpu_s: float
    load: float
    """The machine's 1-minute load average at the end: other work competing for the CPU."""
    counts: dict[str, int]
    cpu_by_kind: dict[str, float] = field(default_factory=dict)
    """CPU seconds of the Python process, Playwright's driver and the browser."""

    @property
    def per_minute(self) -> float:
        return self.quotes / (self.seconds / 60) if self.seconds else 0.0


def measure(
    label: str, workers: int, opportunities: int, latency_ms: int, root: Path, pg: str
) -> Measurement:
    """Fresh portal, fresh store, a measuring process of its own, its tree's peak RSS."""
    from sandbox.generate import load_credentials

    folder = root / f"{label}-{workers}"
    portal = Portal(folder / "portal", opportunities, latency_ms)
    try:
        credentials = load_credentials(folder / "portal")
        env = {**os.environ, USER_ENV: credentials.username, PASSWORD_ENV: credentials.password}
        command = [
            sys.executable,
            __file__,
            "--measure",
            label,
            "--url",
            portal.url,
            "--data-dir",
            str(folder / "portal"),
            "--work",
            str(folder),
            "--workers",
            str(workers),
            "--pg",
            pg,
        ]
        portal_cpu = cpu_seconds(portal.process.pid)
        child = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, text=True)
        sampler = TreeSampler(child.pid)
        sampler.start()
        out, _ = child.communicate()
        sampler.stop()
        portal_cpu = cpu_seconds(portal.process.pid) - portal_cpu
    finally:
        portal.close()
    if child.returncode != 0:
        raise click.ClickException(f"the {label} run with {workers} workers failed")
    data = json.loads(out.strip().splitlines()[-1])
    if data.get("drift"):
        raise click.ClickException(f"selector drift in the {label} run: {data['drift']}")
    if data.get("error"):
        raise click.ClickException(f"the {label} run with {workers} workers: {data['error']}")
    return Measurement(
        label,
        workers,
        data["quotes"],
        data["seconds"],
        sampler.peak_kb / 1024,
        sampler.peak_processes,
        sampler.cpu_seconds,
        portal_cpu,
        os.getloadavg()[0],
        data["counts"],
        sampler.cpu_by_kind,
    )


# -- the report -----------------------------------------------------------------------------


def _row(r: Measurement, name: str, speedup: str) -> str:
    per_quote = r.cpu_s / r.quotes if r.quotes else 0.0
    return (
        f"{name:>7} {r.quotes:>6} {r.seconds:>7.1f} {r.per_minute:>9.1f} {speedup:>8} "
        f"{r.peak_rss_mb:>8.0f} {r.peak_rss_mb / r.workers:>9.0f} {r.processes:>5} "
        f"{r.cpu_s:>7.0f} {per_quote:>7.1f} {r.portal_cpu_s:>8.0f} {r.load:>5.1f}"
    )


def report(
    runs: list[Measurement],
    bares: list[Measurement],
    latency_ms: int,
    fleets: list[Measurement] | None = None,
) -> None:
    fleets = fleets or []
    cores = os.cpu_count() or 1
    click.echo(f"\nacme sandbox, {latency_ms} ms per request, {cores} CPU cores\n")
    header = (
        f"{'workers':>7} {'quotes':>6} {'seconds':>7} {'quotes/':>9} {'speed-up':>8} "
        f"{'peak RSS':>8} {'RSS MB /':>9} {'procs':>5} {'CPU s':>7} {'CPU s /':>7} "
        f"{'portal':>8} {'load':>5}\n"
        f"{'':>7} {'':>6} {'':>7} {'minute':>9} {'vs 1':>8} {'MB':>8} {'worker':>9} "
        f"{'':>5} {'':>7} {'quote':>7} {'CPU s':>8} {'1 min':>5}"
    )
    click.echo(header)
    click.echo("-" * len(header.splitlines()[0]))
    for rows in (runs, bares, fleets):
        first = next((r for r in rows if r.workers == 1), None)
        for r in rows:
            base = first.per_minute if first else 0.0
            speedup = f"{r.per_minute / base:.2f}x" if base else "-"
            name = str(r.workers) if r.label == "framework" else f"{r.label} {r.workers}"
            click.echo(_row(r, name, speedup))
    if bares:
        click.echo(
            "(bare N: N plain Playwright scripts side by side, no framework, each with its "
            "share of the renewals)"
        )
    if fleets:
        click.echo(
            "(fleet N: N `quotebot worker --slots 1` processes on PostgreSQL sharing one run)"
        )
    click.echo("")
    for fleet in fleets:
        twin = next((b for b in bares if b.workers == fleet.workers), None)
        if twin is None or not fleet.per_minute:
            continue
        ratio = twin.per_minute / fleet.per_minute
        verdict = "PASS" if ratio <= FLEET_TARGET else "MISS"
        click.echo(
            f"fleet of {fleet.workers} vs {fleet.workers} bare: {twin.per_minute:.1f} / "
            f"{fleet.per_minute:.1f} quotes/min = {ratio:.2f}x (target <= {FLEET_TARGET}x): "
            f"{verdict}"
        )
    one = next((r for r in runs if r.workers == 1), None)
    bare = next((r for r in bares if r.workers == 1), None)
    if bare is not None and one is not None and one.per_minute:
        overhead = bare.per_minute / one.per_minute
        verdict = "PASS" if overhead <= OVERHEAD_TARGET else "MISS"
        click.echo(
            f"framework overhead: bare {bare.per_minute:.1f} / framework "
            f"{one.per_minute:.1f} quotes/min = {overhead:.2f}x "
            f"(target <= {OVERHEAD_TARGET}x): {verdict}"
        )
    _against_bare(runs, bares)
    four = next((r for r in runs if r.workers == 4), None)
    if four is not None and one is not None and one.per_minute:
        ratio = four.per_minute / one.per_minute
        verdict = "PASS" if ratio >= SPEEDUP_TARGET else "MISS"
        click.echo(f"4 workers vs 1: {ratio:.2f}x (target >= {SPEEDUP_TARGET}x): {verdict}")
    bare_four = next((r for r in bares if r.workers == 4), None)
    if bare_four is not None and bare is not None and bare.per_minute:
        click.echo(
            f"4 bare scripts vs 1: {bare_four.per_minute / bare.per_minute:.2f}x "
            f"(what this machine gives 4 browsers with no framework at all)"
        )
    busiest = max(runs, key=lambda r: r.cpu_s / r.seconds if r.seconds else 0.0, default=None)
    if busiest is not None and busiest.seconds:
        used = (busiest.cpu_s + busiest.portal_cpu_s) / busiest.seconds
        click.echo(
            f"CPU: {busiest.workers} workers kept {used:.1f} of {cores} cores busy "
            f"(bots {busiest.cpu_s / busiest.seconds:.1f}, portal "
            f"{busiest.portal_cpu_s / busiest.seconds:.1f})"
        )


def _against_bare(runs: list[Measurement], bares: list[Measurement]) -> None:
    """At each count measured both ways: how much slower the framework is than as many bare
    scripts, how much more CPU a quote costs, and where that CPU goes."""
    for run in runs:
        twin = next((b for b in bares if b.workers == run.workers), None)
        if twin is None or not (run.quotes and twin.quotes and run.per_minute):
            continue
        rate = twin.per_minute / run.per_minute
        cpu = (run.cpu_s / run.quotes) / (twin.cpu_s / twin.quotes) if twin.cpu_s else 0.0
        click.echo(
            f"{run.workers} workers vs {twin.workers} bare: {rate:.2f}x slower "
            f"(target <= {RATE_TARGET}x: {'PASS' if rate <= RATE_TARGET else 'MISS'}), "
            f"CPU per quote {cpu:.2f}x "
            f"(target <= {CPU_TARGET}x: {'PASS' if cpu <= CPU_TARGET else 'MISS'})"
        )
        for r in (run, twin):
            parts = ", ".join(
                f"{kind} {seconds / r.quotes:.2f}"
                for kind, seconds in sorted(r.cpu_by_kind.items())
            )
            click.echo(f"    {r.label} {r.workers}: CPU s per quote by process: {parts}")


@click.command()
@click.option(
    "--workers",
    "worker_list",
    default="1,2,4,8",
    show_default=True,
    help="Worker counts, comma separated (in a measuring process: one count).",
)
@click.option(
    "--opportunities",
    type=click.IntRange(min=1),
    default=30,
    show_default=True,
    help="Opportunities in each fresh portal (a few fail by design: bad data).",
)
@click.option("--latency-ms", type=click.IntRange(min=0), default=150, show_default=True)
@click.option(
    "--bare",
    "bare_list",
    default="1,4",
    show_default=True,
    help="Bare scripts side by side, comma separated; empty: none.",
)
@click.option(
    "--fleet",
    "fleet_list",
    default="",
    help="Fleet worker processes, comma separated (e.g. 1,2,4); empty: none.",
)
@click.option(
    "--pg",
    default=DEFAULT_PG,
    show_default=True,
    help="PostgreSQL server for the fleet's databases (one fresh database per count).",
)
@click.option("--quick", is_flag=True, help="Smoke run: 1 and 2 workers, 8 opportunities.")
@click.option(
    "--keep",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Keep portals, stores and evidence in this folder.",
)
@click.option(
    "--without-fingerprints",
    is_flag=True,
    help="Also run the framework with fingerprints off (what keeping them costs, in the same run).",
)
@click.option(
    "--profile",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="cProfile the framework's Python (every thread) into this folder: "
    "framework-N.pstats and the top functions in framework-N.txt.",
)
@click.option(
    "--measure",
    type=click.Choice(["framework", "framework-nofp", "bare", "fleet"]),
    hidden=True,
)
@click.option("--url", hidden=True)
@click.option("--data-dir", type=click.Path(path_type=Path), hidden=True)
@click.option("--work", type=click.Path(path_type=Path), hidden=True)
def main(
    worker_list: str,
    opportunities: int,
    latency_ms: int,
    bare_list: str,
    fleet_list: str,
    pg: str,
    quick: bool,
    keep: Path | None,
    without_fingerprints: bool,
    profile: Path | None,
    measure: str | None,
    url: str | None,
    data_dir: Path | None,
    work: Path | None,
) -> None:
    """Quotes per minute for 1, 2, 4 and 8 workers and for a bare Playwright script."""
    if measure is not None:  # a measuring process, started below
        sys.path.insert(0, str(Path(__file__).parent))
        from quotebot import configure_logging
        from schemas.settings import Settings

        configure_logging(Settings(), 0)  # what `quotebot run` does: warnings and errors only
        assert url and data_dir and work
        if measure == "bare":
            data = _measure_bare(url, data_dir, int(worker_list))
        elif measure == "fleet":
            data = _measure_fleet(url, data_dir, work, int(worker_list), pg)
        else:
            fingerprints = measure != "framework-nofp"
            data = _profiled(
                lambda: _measure_framework(url, data_dir, work, int(worker_list), fingerprints),
                os.environ.get(PROFILE_ENV),
                f"framework-{worker_list}",
            )
        click.echo(json.dumps(data))
        return
    counts, bare_counts = _counts(worker_list, "--workers"), _counts(bare_list, "--bare")
    fleet_counts = _counts(fleet_list, "--fleet")
    if quick:
        counts, bare_counts, opportunities = [1, 2], [1], 8
    if profile is not None:
        profile.mkdir(parents=True, exist_ok=True)
        os.environ[PROFILE_ENV] = str(profile.resolve())  # read by the measuring processes
    with tempfile.TemporaryDirectory(prefix="bot-bench-") as scratch:
        root = keep or Path(scratch)
        root.mkdir(parents=True, exist_ok=True)

        def each(label: str, ns: list[int]) -> list[Measurement]:
            return [measure_and_say(label, n, opportunities, latency_ms, root, pg) for n in ns]

        bares, runs, fleets = each("bare", bare_counts), each("framework", counts), []
        plain = each("framework-nofp", counts) if without_fingerprints else []
        if fleet_counts:
            fleets = each("fleet", fleet_counts)
    report(runs, bares, latency_ms, fleets)
    for run, off in zip(runs, plain, strict=True):
        bare = next((b for b in bares if b.workers == run.workers), None)
        vs_bare = (
            f"; bare / with {bare.per_minute / run.per_minute:.2f}, bare / without "
            f"{bare.per_minute / off.per_minute:.2f}"
            if bare and run.per_minute and off.per_minute
            else ""
        )
        click.echo(
            f"fingerprints, {run.workers} worker(s): {run.per_minute:.1f} quotes/min with, "
            f"{off.per_minute:.1f} without{vs_bare}"
        )


def _counts(text: str, option: str) -> list[int]:
    try:
        counts = [int(w) for w in text.split(",") if w.strip()]
    except ValueError:
        message = f"expected e.g. 1,2,4,8, got {text!r}"
        raise click.BadParameter(message, param_hint=option) from None
    if any(n < 1 for n in counts):
        raise click.BadParameter(f"counts start at 1, got {text!r}", param_hint=option)
    return counts


def measure_and_say(
    label: str, workers: int, opportunities: int, latency_ms: int, root: Path, pg: str
) -> Measurement:
    result = measure(label, workers, opportunities, latency_ms, root, pg)
    click.echo(
        f"{label} x{workers}: {result.quotes} quotes in {result.seconds:.1f} s {result.counts}",
        err=True,
    )
    return result


if __name__ == "__main__":
    main()
