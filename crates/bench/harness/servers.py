"""Processes, servers and wrk runs for scripts/bench: starting and stopping what the harness
measures, loading data with crates/bench's `load`, and running one wrk scenario
(crates/bench/wrk/scim.lua) into a result dict."""

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
TOOLS = Path(os.environ.get("ROLLCALL_TOOLS", ROOT.parent / "shared" / "tools"))
TOOLS_STATE = Path(os.environ.get("ROLLCALL_TOOLS_DIR", Path.home() / ".cache" / "rollcall-tools"))
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
OUT = TARGET / "bench"
WORK = OUT / "work"
LUA = ROOT / "crates" / "bench" / "wrk" / "scim.lua"
PG_ADMIN = os.environ.get(
    "ROLLCALL_BENCH_POSTGRES_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres"
)
# Users outside every group, which the membership scenarios add and remove.
MOVERS = 100


@dataclass
class Config:
    """What one run measures: sizes and wrk settings, from the options and the environment."""

    users: int
    depth_users: int
    groups: list
    duration: int
    threads: int
    conns: int
    quick: bool
    only: list = field(default_factory=list)
    skip_peer: bool = False
    skip_postgres: bool = False
    keep: bool = False

    def wants(self, name: str) -> bool:
        """Whether --only selects `name` (every scenario without --only)."""
        if not self.only:
            return True
        return any(name == o or name.startswith(o + "_") for o in self.only)

    def member_scenarios(self) -> list:
        return [f"member_{size}" for size in self.groups]

    def scenarios(self) -> list:
        """Every wrk scenario, in the order of the report."""
        return ["get_by_id", "filter_username", "filter_externalid", "create", "patch_active",
                *self.member_scenarios(), "mixed", "page_index_deep", "page_cursor_deep",
                "filter_username_deep"]

    @property
    def depth_span(self) -> int:
        """How far from the end the deep pages start."""
        return min(10_000, self.depth_users // 10)


def log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


# -- Processes --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(port: int, path: str, headers=None, timeout=30.0):
    """One GET on a fresh connection: (status, body bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def wait_ready(port: int, path: str, proc, limit: float = 30.0, every: float = 0.002) -> float:
    """Polls until `path` answers 200; returns the time it took. Fails if `proc` exits."""
    started = time.perf_counter()
    while time.perf_counter() - started < limit:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode} before it was ready")
        try:
            if http_get(port, path, timeout=1.0)[0] == 200:
                return time.perf_counter() - started
        except OSError:
            pass
        time.sleep(every)
    raise RuntimeError(f"nothing answered 200 on port {port}{path} within {limit:.0f} s")


def stop(proc) -> None:
    """SIGTERM, then SIGKILL after 15 s, for one process this script started."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def memory(pid: int) -> dict:
    """VmHWM and VmRSS from /proc, in MiB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmHWM", "VmRSS"):
            values[key] = int(rest.split()[0]) / 1024
    return values


def run_json(command: list, env=None) -> dict:
    done = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
    return json.loads(done.stdout)


# -- Servers ----------------------------------------------------------------------------------


class Rollcall:
    """A `rollcall serve` on one database, and the workspaces loaded into it."""

    def __init__(self, label: str, url: str, config: Config):
        self.label, self.url, self.config = label, url, config
        self.proc = None
        self.port = None
        self.env = dict(os.environ, ROLLCALL_DATABASE_URL=url, RUST_LOG="warn")
        self.env.pop("ROLLCALL_LISTEN", None)

    def start(self, log_name: str):
        self.port = free_port()
        command = [
            str(TARGET / "release" / "rollcall"), "serve", "--listen", f"127.0.0.1:{self.port}",
            "--no-bootstrap", "--rate-per-second", "4000000000", "--rate-burst", "4000000000",
        ]
        with open(WORK / log_name, "ab") as out:
            self.proc = subprocess.Popen(command, env=self.env, stdout=out, stderr=out)
        return wait_ready(self.port, "/readyz", self.proc)

    def stop(self):
        stop(self.proc)
        self.proc = None

    def failures(self, workspace: str) -> list:
        """The latest failed requests in the workspace's own request log."""
        try:
            time.sleep(0.5)  # the log is written in batches, 200 ms at most after a request
            entries = run_json(
                [str(TARGET / "release" / "rollcall"), "log", workspace, "--failed",
                 "--limit", "3", "--json"], env=self.env)["entries"]
        except (subprocess.CalledProcessError, json.JSONDecodeError, KeyError) as err:
            return [f"(could not read the request log: {err})"]
        return [f"{e.get('status')} {e.get('method')} {e.get('route')}: {e.get('detail')}"
                for e in entries]


def load(url: str, name: str, users: int, prefix: str, groups=(), movers: int = 0) -> dict:
    """Runs crates/bench's loader; its JSON, with the files it wrote."""
    ids = WORK / f"{name}-ids.txt"
    movers_file = WORK / f"{name}-movers.txt"
    command = [str(TARGET / "release" / "load"), "--database", url, "--name", name,
               "--users", str(users), "--prefix", prefix, "--ids", str(ids)]
    if movers:
        command += ["--movers", str(movers), "--movers-file", str(movers_file)]
    if groups:
        command += ["--groups", ",".join(str(g) for g in groups)]
    started = time.monotonic()
    loaded = json.loads(subprocess.run(command, check=True, stdout=subprocess.PIPE,
                                       text=True).stdout)
    loaded.update(ids=ids, movers_file=movers_file, prefix=prefix,
                  wall_seconds=time.monotonic() - started)
    log(f"loaded {users:,} users into {name} in {loaded['wall_seconds']:.1f} s "
        f"({loaded['users_per_second']:,.0f} users/s)")
    return loaded


# -- wrk --------------------------------------------------------------------------------------


def wrk(config: Config, base: str, token: str, scenario: str, *args) -> dict:
    command = ["wrk", f"-t{config.threads}", f"-c{config.conns}", f"-d{config.duration}s",
               "--timeout", "30s", "--latency", "-s", str(LUA)]
    if token:
        command += ["-H", f"Authorization: Bearer {token}"]
    command += [base, "--", scenario, str(config.threads), *[str(a) for a in args]]
    done = subprocess.run(command, capture_output=True, text=True)
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            result = {}
            for pair in line.split()[1:]:
                key, _, value = pair.partition("=")
                result[key] = float(value) if "." in value else int(value)
            return result
    raise RuntimeError(f"wrk gave no result ({done.returncode}): {done.stdout}{done.stderr}")


def warm(port: int, path: str, token: str) -> None:
    """One request before a run (the peer builds its userName index on the first filter)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        http_get(port, path, headers)
    except OSError:
        pass


class Runner:
    """Runs scenarios against one server and keeps their results."""

    def __init__(self, config: Config, label: str, port: int, base_path: str, token: str):
        self.config, self.label, self.port = config, label, port
        self.base_path, self.token = base_path, token
        self.base = f"http://127.0.0.1:{port}{base_path}"
        self.results = {}

    def run(self, name: str, scenario: str, *args, warm_path: str = None, always=False) -> None:
        if not (always or self.config.wants(name)):
            return
        if warm_path:
            warm(self.port, self.base_path + warm_path, self.token)
        result = wrk(self.config, self.base, self.token, scenario, *args)
        self.results[name] = result
        flag = "  ERRORS" if result["non2xx"] or result["errors"] else ""
        log(f"{self.label:<16} {name:<22} {result['rps']:>9,.0f} req/s  "
            f"p50 {result['p50_ms']:.2f} ms  p99 {result['p99_ms']:.2f} ms{flag}")
        # wrk drops the requests in flight when it stops; let the server finish them, so that
        # they do not weigh on what runs next.
        time.sleep(min(10.0, max(1.0, 1.5 * result["max_ms"] / 1000)))
