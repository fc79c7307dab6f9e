"""A mixed read/write workload under gunicorn on loopback, as in production: real HTTP, CSRF on.

Several client threads sign in (coordinators and animators of the city dataset) and, until the time
is up, send the coordinator's and animator's cases of bench/cases.py in random order: about one
request in five is a write. Measured: throughput, client-side p50/p95 of reads and writes, every
answer that is not a success (a "database is locked" would show up here as a 500), and the peak
resident memory (VmHWM) of each gunicorn worker, which is what DESIGN.md's memory budget is about.
"""
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from http.cookiejar import CookieJar
from pathlib import Path

from app import demo
from app.config import PROJECT_ROOT
from bench.cases import CASES, Case
from bench.dataset import bench_app
from models import db

WORKERS = 2
CLIENTS = 6
SECONDS = 20
ROLES = ("coordinator", "animator")
WRITE_SHARE = 0.2
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a 303 after a write is the answer we time, not the page it points to


class Browser:
    """One signed-in person: cookies, the CSRF token of their session, timed requests."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()), _NoRedirect)
        self.token = ""

    def send(self, method: str, path: str, data: dict | None = None, fragment: bool = False) -> tuple[int, bytes]:
        body = None
        headers = {"HX-Request": "true"} if fragment else {}
        if method == "POST":
            body = urllib.parse.urlencode({**(data or {}), "csrf_token": self.token}).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["X-CSRFToken"] = self.token
        request = urllib.request.Request(self.base + path, data=body, method=method, headers=headers)
        try:
            with self.opener.open(request, timeout=30) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as err:  # 3xx (no redirects followed), 4xx, 5xx
            return err.code, err.read()

    def sign_in(self, email: str) -> None:
        status, page = self.send("GET", "/login")
        self.token = CSRF.search(page.decode()).group(1)
        status, _ = self.send("POST", "/login", {"email": email, "password": demo.DEMO_PASSWORD})
        if status != 303:
            raise RuntimeError(f"signing in as {email} over HTTP answered {status}")
        status, page = self.send("GET", "/residents/new")  # the session's own token for later writes
        self.token = CSRF.search(page.decode()).group(1)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _workers(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children")
    return [int(p) for p in children.read_text().split()] if children.exists() else []


def _peak_rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def _resolved(path: Path) -> tuple[dict[str, str], dict[str, list[tuple[Case, str, dict | None]]]]:
    """Each role's first demo e-mail, and its cases with paths and data built on this database."""
    app = bench_app(path)
    with app.app_context():
        emails = {}
        for login in demo.demo_logins():
            emails.setdefault(login.role, login.email)
        cases: dict[str, list] = {role: [] for role in ROLES}
        for case in CASES:
            if case.role in ROLES:
                built_path = case.path() if callable(case.path) else case.path
                data = case.data() if callable(case.data) else case.data
                cases[case.role].append((case, built_path, data))
        db.engine.dispose()
    return emails, cases


@contextmanager
def serve(path: Path, workers: int = WORKERS):
    """gunicorn serving the SQLite file at `path` on a free loopback port, as in production (CSRF on).
    Yields (base URL, the master process); stops it on the way out."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{path}", "SECRET_KEY": "bench-load-not-a-secret"}
    server = subprocess.Popen(
        [str(PROJECT_ROOT / ".venv" / "bin" / "gunicorn"), "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
         "--log-level", "warning", "app:create_app()"],
        cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    server.log = b""
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if Browser(base).send("GET", "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("gunicorn did not answer /healthz within 30 s")
            time.sleep(0.2)
        yield base, server
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            _, server.log = server.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            _, server.log = server.communicate()


def run(path: Path, seconds: int = SECONDS, clients: int = CLIENTS, seed: int = 7) -> dict:
    """Serve the database at `path` with gunicorn and drive it; returns the figures."""
    emails, cases = _resolved(path)
    with serve(path) as (base, server):
        samples: list[tuple[str, float, int, bool]] = []  # (kind, ms, status, locked)
        lock = threading.Lock()
        ready = threading.Barrier(clients + 1)  # everyone signed in: the clock starts
        window = {}

        def client(n: int) -> None:
            rnd = random.Random(seed + n)
            role = ROLES[n % len(ROLES)]
            browser = Browser(base)
            browser.sign_in(emails[role])
            reads = [c for c in cases[role] if c[0].kind == "read"]
            writes = [c for c in cases[role] if c[0].kind == "write"]
            ready.wait()
            ready.wait()  # the main thread has set the window
            while time.monotonic() < window["stop"]:
                case, built_path, data = rnd.choice(writes if writes and rnd.random() < WRITE_SHARE else reads)
                started = time.perf_counter()
                status, body = browser.send(case.method, built_path, data, case.fragment)
                ms = (time.perf_counter() - started) * 1000
                with lock:
                    samples.append((case.kind, ms, status, b"database is locked" in body))

        threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(clients)]
        for t in threads:
            t.start()
        ready.wait(timeout=60)
        started = time.monotonic()
        window["stop"] = started + seconds
        ready.wait(timeout=60)
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
        workers = _workers(server.pid)
        peaks = [_peak_rss_bytes(pid) for pid in workers]
    stderr = server.log

    def pct(values: list[float], q: float) -> float:
        return statistics.quantiles(values, n=100)[q - 1] if len(values) >= 2 else (values[0] if values else 0.0)

    reads = [ms for kind, ms, _, _ in samples if kind == "read"]
    writes = [ms for kind, ms, _, _ in samples if kind == "write"]
    # 409 is a stale version answered as designed (a case repeats the same save), not a failure.
    errors = [status for _, _, status, _ in samples if status >= 500 or status in (400, 403, 404, 429)]
    statuses: dict[int, int] = {}
    for _, _, status, _ in samples:
        statuses[status] = statuses.get(status, 0) + 1
    return {
        "workers": WORKERS, "clients": clients, "seconds": round(elapsed, 1), "requests": len(samples),
        "throughput_rps": round(len(samples) / elapsed, 1) if elapsed else 0.0,
        "read_p50_ms": round(pct(reads, 50), 1), "read_p95_ms": round(pct(reads, 95), 1),
        "write_p50_ms": round(pct(writes, 50), 1), "write_p95_ms": round(pct(writes, 95), 1),
        "reads": len(reads), "writes": len(writes), "errors": len(errors),
        "statuses": dict(sorted(statuses.items())),
        "locked": sum(1 for *_, locked in samples if locked),
        "server_log_locked": stderr.decode(errors="replace").count("database is locked"),
        "worker_peak_rss_bytes": peaks,
    }
