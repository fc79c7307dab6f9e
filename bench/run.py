"""Measure every case of bench/cases.py against DESIGN.md's budgets; print a table, write bench.json.

A report, not a test: budgets that are missed are shown as MISSED and the exit code stays 0.
Sizes are held to the strict reading of the budgets: 1 KB = 1000 bytes, 1 MB = 1,000,000 bytes.
"""
import gzip
import json
import math
import platform
import statistics
import sys
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from html.parser import HTMLParser

from flask import Flask
from sqlalchemy import event
from tabulate import tabulate

from app import demo
from app.config import PROJECT_ROOT
from bench import dataset, importing, load, slow_network
from bench.cases import ANONYMOUS, CASES, Case
from models import db

WARMUP = 3
SAMPLES = 50
KB = 1000
MB = 1000 * 1000
READ_P95_MS = 50
WRITE_P95_MS = 80
MAX_STATEMENTS = 12
FIRST_LOAD_BYTES = 60 * KB
FRAGMENT_BYTES = 8 * KB
WORKER_RSS_BYTES = 150 * MB
GENERATION_SECONDS = 180
MEETING_FLOW_SECONDS = 60
MEETING_FLOW_TAPS = 15
FIRST_LOAD_ROLE = "coordinator"
OUTPUT = PROJECT_ROOT / "bench.json"


@dataclass
class Check:
    """One budget held against one figure."""

    budget: str
    figure: str
    met: bool


class Clients:
    """Test clients of one application: one signed-in client per role, a new one per anonymous request."""

    def __init__(self, app: Flask):
        self.app = app
        self._signed_in = {}

    def get(self, role: str):
        if role == ANONYMOUS:
            return self.app.test_client()
        if role not in self._signed_in:
            self._signed_in[role] = self._sign_in(role)
        return self._signed_in[role]

    def _sign_in(self, role: str):
        with self.app.app_context():
            email = next((login.email for login in demo.demo_logins() if login.role == role), None)
        if email is None:
            raise RuntimeError(f"the bench database has no demo account with role {role!r}")
        client = self.app.test_client()
        resp = client.post("/login", data={"email": email, "password": demo.DEMO_PASSWORD})
        if resp.status_code != 303:
            raise RuntimeError(f"signing in as {email} answered {resp.status_code}, expected 303")
        return client


@dataclass
class Target:
    """One database under test: its application, clients and engine."""

    app: Flask
    clients: Clients

    @classmethod
    def on(cls, path) -> "Target":
        app = dataset.bench_app(path)
        return cls(app, Clients(app))

    def resolve(self, value):
        """A case's path or data: called inside an application context when it is a callable."""
        if not callable(value):
            return value
        with self.app.app_context():
            return value()

    def close(self) -> None:
        with self.app.app_context():
            db.session.remove()
            db.engine.dispose()


@contextmanager
def counting_statements(app: Flask):
    """Count the SQL statements sent to `app`'s database inside the block: yields a one-item list."""
    with app.app_context():
        engine = db.engine
    count = [0]

    def on_execute(*_args):
        count[0] += 1

    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        yield count
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)


def send(target: Target, case: Case, path: str, data) -> tuple[float, int, bytes]:
    """One request through the WSGI stack: seconds taken, status and body."""
    client = target.clients.get(case.role)
    headers = {"HX-Request": "true"} if case.fragment else {}
    started = time.perf_counter()
    resp = client.open(path, method=case.method, data=data, headers=headers)
    body = resp.get_data()
    elapsed = time.perf_counter() - started
    resp.close()
    return elapsed, resp.status_code, body


def exercise(target: Target, case: Case, samples: int) -> dict:
    """Warm up, time `samples` requests, then count the statements of one more."""
    path, data = target.resolve(case.path), target.resolve(case.data)
    for _ in range(WARMUP):
        send(target, case, path, data)
    timings = [send(target, case, path, data)[0] * 1000 for _ in range(samples)]
    with counting_statements(target.app) as count:
        _, status, body = send(target, case, path, data)
    return {"path": path, "timings_ms": timings, "statements": count[0], "status": status, "body": body}


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


def gzipped_size(body: bytes) -> int:
    return len(gzip.compress(body, compresslevel=6))


def measure_case(case: Case, city: Target, small: Target) -> dict:
    """Time a case on the city database, count its statements on both, and hold it to its budgets."""
    on_city = exercise(city, case, SAMPLES)
    on_small = exercise(small, case, 0)
    p50 = statistics.median(on_city["timings_ms"])
    p95 = percentile(on_city["timings_ms"], 95)
    body = on_city["body"]
    sql_small, sql_city = on_small["statements"], on_city["statements"]
    limit = case.p95_ms or (READ_P95_MS if case.kind == "read" else WRITE_P95_MS)
    checks = [
        Check(f"p95 ≤ {limit} ms ({case.kind})", f"p95 {p95:.1f} ms", p95 <= limit),
        Check(f"SQL ≤ {MAX_STATEMENTS}", f"SQL {max(sql_small, sql_city)}", max(sql_small, sql_city) <= MAX_STATEMENTS),
        Check("same SQL count small/city", f"SQL {sql_small} small, {sql_city} city", sql_small == sql_city),
    ]
    if case.p50_ms is not None:
        checks.append(Check(f"p50 ≤ {case.p50_ms:g} ms", f"p50 {p50:.1f} ms", p50 <= case.p50_ms))
    if case.fragment:
        checks.append(Check(f"fragment ≤ {FRAGMENT_BYTES // KB} KB", f"fragment {len(body)} bytes",
                            len(body) <= FRAGMENT_BYTES))
    return {
        "case": case.name, "role": case.role, "method": case.method, "path": on_city["path"], "kind": case.kind,
        "fragment": case.fragment, "status": on_city["status"], "samples": SAMPLES,
        "p50_ms": round(p50, 2), "p95_ms": round(p95, 2), "sql_small": sql_small, "sql_city": sql_city,
        "bytes": len(body), "gzip_bytes": gzipped_size(body),
        "checks": [asdict(c) for c in checks], "verdict": verdict(checks),
    }


class AssetLinks(HTMLParser):
    """Collects the stylesheets and scripts a page makes the browser fetch."""

    def __init__(self):
        super().__init__()
        self.urls = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "link" and "stylesheet" in (attrs.get("rel") or "").lower().split() and attrs.get("href"):
            self.urls.append(attrs["href"])
        elif tag == "script" and attrs.get("src"):
            self.urls.append(attrs["src"])


def fetch(client, url: str) -> tuple[dict, bytes]:
    """GET `url`: its size raw and gzip-compressed, and its body."""
    resp = client.get(url)
    body = resp.get_data()
    resp.close()
    return {"url": url, "status": resp.status_code, "bytes": len(body), "gzip_bytes": gzipped_size(body)}, body


def first_load(target: Target) -> dict:
    """GET / and every stylesheet and script it references, each gzip-compressed, as one total."""
    client = target.clients.get(FIRST_LOAD_ROLE)
    page, html = fetch(client, "/")
    links = AssetLinks()
    links.feed(html.decode("utf-8", errors="replace"))
    parts = [page] + [fetch(client, url)[0] for url in links.urls]
    total = sum(p["gzip_bytes"] for p in parts)
    check = Check(f"first load ≤ {FIRST_LOAD_BYTES // KB} KB compressed", f"{total / KB:.1f} KB",
                  total <= FIRST_LOAD_BYTES)
    return {"role": FIRST_LOAD_ROLE, "parts": parts, "gzip_bytes": total, "check": asdict(check)}


def verdict(checks: list[Check]) -> str:
    missed = [f"{c.figure} (budget {c.budget})" for c in checks if not c.met]
    return "met" if not missed else "MISSED " + "; ".join(missed)


def generation_check(city: dataset.Dataset) -> Check:
    return Check(f"city generation ≤ {GENERATION_SECONDS // 60} min", f"{city.seconds:.1f} s",
                 city.seconds <= GENERATION_SECONDS)


def memory_check(loaded: dict) -> Check:
    """The peak resident memory of the busiest gunicorn worker after the mixed load."""
    peak = max(loaded["worker_peak_rss_bytes"], default=0)
    return Check(f"gunicorn worker peak RSS ≤ {WORKER_RSS_BYTES // MB} MB", f"{peak / MB:.1f} MB",
                 0 < peak <= WORKER_RSS_BYTES)


def load_check(loaded: dict) -> Check:
    """Concurrent use must not fail: every answer a success, no "database is locked" anywhere.
    Latencies are client-side, queueing included, so they are reported, not held to the server budget."""
    figure = (f"{loaded['requests']} requests, {loaded['throughput_rps']} req/s, "
              f"read p50/p95 {loaded['read_p50_ms']}/{loaded['read_p95_ms']} ms, "
              f"write p50/p95 {loaded['write_p50_ms']}/{loaded['write_p95_ms']} ms, "
              f"{loaded['errors']} errors, {loaded['locked'] + loaded['server_log_locked']} locked")
    ok = loaded["requests"] > 0 and loaded["errors"] == 0 and loaded["locked"] == 0 and loaded["server_log_locked"] == 0
    return Check("no failed request, no 'database is locked'", figure, ok)


def describe(ds: dataset.Dataset, counts: dict) -> str:
    when = f"reused, generated in {ds.seconds:.1f} s at {ds.generated_at}" if ds.reused else f"generated in {ds.seconds:.1f} s"
    others = ", ".join(f"{name} {n}" for name, n in counts["tables"].items() if name not in ("centre", "user"))
    return f"{ds.scale} dataset ({when}): {counts['centres']} centres, {counts['users']} users; {others}"


def print_report(results: list[dict], budget_rows: list[tuple[str, Check]], met: int, total: int) -> None:
    rows = [
        (r["case"], r["role"], r["status"], f"{r['p50_ms']:.1f}", f"{r['p95_ms']:.1f}",
         f"{r['sql_small']}/{r['sql_city']}", r["bytes"], r["gzip_bytes"], r["verdict"])
        for r in results
    ]
    print()
    print(tabulate(rows, headers=["case", "role", "status", "p50 ms", "p95 ms", "SQL small/city", "bytes",
                                  "gzip bytes", "budget verdict"],
                   tablefmt="github", disable_numparse=True, colalign=("left", "left", "right", "right", "right",
                                                                       "right", "right", "right", "left")))
    print()
    print(tabulate([(name, c.figure, c.budget, "met" if c.met else "MISSED") for name, c in budget_rows],
                   headers=["budget", "figure", "limit", "verdict"], tablefmt="github"))
    print()
    print(f"budgets met: {met} of {total}")


def main() -> int:
    datasets = {scale: dataset.ensure(scale) for scale in ("small", "city")}
    copies = {scale: dataset.working_copy(ds.path) for scale, ds in datasets.items()}
    targets = {scale: Target.on(path) for scale, path in copies.items()}
    try:
        counts = {}
        for scale, target in targets.items():
            with target.app.app_context():
                counts[scale] = dataset.row_counts()
            print(describe(datasets[scale], counts[scale]), flush=True)
        print(f"Measuring {len(CASES)} cases: {WARMUP} warm-up and {SAMPLES} timed requests each ...", flush=True)
        results = [measure_case(case, targets["city"], targets["small"]) for case in CASES]
        page = first_load(targets["city"])
        print(f"Importing {importing.IMPORT_ROWS} spreadsheet rows ...", flush=True)
        imported = importing.measure(targets["city"].clients.get("coordinator"))
        print(f"Mixed load under gunicorn for {load.SECONDS} s ...", flush=True)
        loaded = load.run(copies["city"])
        print("The after-meeting flow in Chromium on a throttled network (Slow 3G) ...", flush=True)
        slow = slow_network.run(copies["city"])
    finally:
        for target in targets.values():
            target.close()
        for path in copies.values():
            dataset.remove(path)

    budget_rows = [
        ("generation", generation_check(datasets["city"])),
        (f"first load of / ({page['role']})", Check(**page["check"])),
        ("memory", memory_check(loaded)),
        (f"mixed load, {loaded['clients']} clients, {loaded['workers']} workers", load_check(loaded)),
        (f"after-meeting flow on {slow['profile']}", Check(
            f"≤ {MEETING_FLOW_SECONDS} s, ≤ {MEETING_FLOW_TAPS} taps (10 known, 1 new, 1 promise)",
            f"{slow['seconds']} s, {slow['taps']} taps",
            slow["seconds"] <= MEETING_FLOW_SECONDS and slow["taps"] <= MEETING_FLOW_TAPS)),
        (f"import {imported['rows']} rows", Check(
            f"≤ {importing.IMPORT_SECONDS} s, all rows written", f"{imported['seconds']:.1f} s, {imported['imported']} written",
            imported["seconds"] <= importing.IMPORT_SECONDS and imported["imported"] == imported["rows"])),
    ]
    checks = [c["met"] for r in results for c in r["checks"]] + [c.met for _, c in budget_rows]
    met, total = sum(checks), len(checks)
    print_report(results, budget_rows, met, total)

    OUTPUT.write_text(json.dumps({
        "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "warmup": WARMUP,
        "samples": SAMPLES,
        "cases": results,
        "budgets": [{"name": name, **asdict(c)} for name, c in budget_rows],
        "first_load": page,
        "import": imported,
        "load": loaded,
        "slow_network": slow,
        "datasets": {scale: {"path": str(ds.path.relative_to(PROJECT_ROOT)), "reused": ds.reused,
                             "generation_seconds": round(ds.seconds, 2), "generated_at": ds.generated_at,
                             **counts[scale]}
                     for scale, ds in datasets.items()},
        "summary": {"met": met, "total": total, "text": f"budgets met: {met} of {total}"},
    }, indent=2, ensure_ascii=False) + "\n")
    print(f"Wrote {OUTPUT.relative_to(PROJECT_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
