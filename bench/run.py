"""The gateway benchmark: the fake upstream alone, then dtbot in front of it, in one run, one table.

The upstream and the load generators run on one core (`--load-core`), one
`dtbot serve` process on the other (`--server-core`). Each load phase is run
first against the upstream alone (the baseline, which also shows the load
side is not the bottleneck) and then through dtbot:

- latency at 1 connection (this repo's Python client, exact percentiles),
- requests/s and p99 at 64 connections (`wrk`, else the Python client),
- 20-chunk streams/s at 32 connections (`wrk`, else the Python client),
- time to the first streamed byte at 32 connections (the Python client),

with the server process's CPU time per request, its RSS, and dtbot's start-up
time (spawn to the first 200 of `/api/health`) on a migrated database.
Linux only (it reads /proc). Needs `wrk` for the throughput rows
(`apt-get install wrk`); without it they fall back to the slower Python client.

    .venv/bin/python bench/run.py [--seconds 10] [--src /path/to/other/checkout]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import load

HERE = Path(__file__).resolve().parent
KEY_LINE = re.compile(r"^dtb_[A-Za-z0-9_-]{43}$", re.MULTILINE)
WRK_LINE = re.compile(r"^WRKJSON (\{.*\})$", re.MULTILINE)
TICK = os.sysconf("SC_CLK_TCK")
KB_PER_MB = 1024.0
# The per-key limit must never trigger; 1,000,000/min is the most the runtime settings accept.
RATE_LIMIT = "1000000"
WRK_HINT = "wrk not found: install it (Debian/Ubuntu: apt-get install -y wrk) for the throughput rows"

# The bars from the issue, each for one dtbot process on one core.
BAR_ADDED_MS = 0.8
BAR_RPS = 2000.0
BAR_STREAMS = 1500.0
BAR_RSS_MB = 100.0
BAR_START_S = 1.5


@dataclass
class Options:
    """How long and where to measure."""

    seconds: float
    latency_seconds: float
    warmup: float
    starts: int
    server_core: int
    load_core: int
    src: Path | None
    use_wrk: bool
    chunk_delay_ms: float = 0.0


@dataclass
class Throughput:
    """One throughput phase: rate, tail latency, errors, the server's CPU per request and both cores' load."""

    rate: float
    p99_ms: float
    count: int
    errors: int
    cpu_ms: float = float("nan")
    busy: dict[int, float] = field(default_factory=dict)
    own_share: float = float("nan")  # the server's CPU time as a share of its core's busy time
    tool: str = "wrk"


@dataclass
class Measurement:
    """Everything measured against one target."""

    single: load.Result
    requests: Throughput
    streams: Throughput
    first_byte: load.Result
    rss_idle_mb: float = float("nan")
    rss_peak_mb: float = float("nan")
    rss_after_mb: float = float("nan")


@dataclass
class Startup:
    """dtbot's start-up times in seconds: the first (migrating) start and the later ones."""

    first: float
    later: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.later) if self.later else float("nan")


# --- processes --------------------------------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pinned(core: int) -> Callable[[], None]:
    """A `preexec_fn` that pins the child (and every thread and process it makes) to `core`."""
    return lambda: os.sched_setaffinity(0, {core})


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL after ten seconds."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def upstream(port: int, opts: Options) -> Iterator[subprocess.Popen[bytes]]:
    """The fake OpenAI upstream, pinned to the load core, until the block ends."""
    command = [sys.executable, str(HERE / "upstream.py"), "--port", str(port)]
    command += ["--chunk-delay-ms", str(opts.chunk_delay_ms)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, preexec_fn=pinned(opts.load_core))
    try:
        wait_http(f"http://127.0.0.1:{port}/", process, 10)
        yield process
    finally:
        stop(process)


def wait_http(url: str, process: subprocess.Popen[bytes], timeout: float) -> float:
    """Poll `url` until it answers 200; the seconds that took. Raises when the process dies or time runs out."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with status {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return time.perf_counter() - started
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.005)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f}s")


def dtbot_command() -> list[str]:
    """`dtbot` from this interpreter's environment."""
    script = Path(sys.executable).parent / "dtbot"
    return [str(script)] if script.exists() else [sys.executable, "-c", "from dtbot.cli import main; main()"]


def dtbot_env(workdir: Path, upstream_port: int, src: Path | None) -> dict[str, str]:
    """SQLite in `workdir`, the in-process cache, OpenAI pointed at the fake, no rate limit in the way."""
    env = {key: value for key, value in os.environ.items() if key not in ("REDIS_URL", "DTBOT_CONFIG")}
    env |= {
        "DATABASE_URL": f"sqlite:///{workdir / 'bench.db'}",
        "API_RATE_LIMIT": RATE_LIMIT,
        "OPENAI_API_KEY": "sk-bench",
        "OPENAI_BASE_URL": f"http://127.0.0.1:{upstream_port}/v1",
        "PYTHONUNBUFFERED": "1",
    }
    if src is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(src.resolve()), env.get("PYTHONPATH")]))
    return env


def start_dtbot(
    workdir: Path, port: int, upstream_port: int, opts: Options
) -> tuple[subprocess.Popen[bytes], float, Path]:
    """Spawn `dtbot serve` pinned to the server core; returns it, the seconds until /api/health said 200, its log."""
    log = workdir / f"dtbot-{time.monotonic_ns()}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*dtbot_command(), "serve", "--port", str(port)],
            cwd=workdir,
            env=dtbot_env(workdir, upstream_port, opts.src),
            stdout=output,
            stderr=subprocess.STDOUT,
            preexec_fn=pinned(opts.server_core),
        )
    try:
        seconds = wait_http(f"http://127.0.0.1:{port}/api/health", process, 60)
    except RuntimeError:
        stop(process)
        sys.exit(f"dtbot did not start:\n{log.read_text(errors='replace')[-3000:]}")
    return process, seconds, log


# --- /proc ------------------------------------------------------------------------------------------------------


def _stat(pid: int) -> list[str]:
    """The fields of /proc/PID/stat after the command name (field 3 of stat(5) onwards)."""
    return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants (worker processes, if the server has any)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                children.setdefault(int(_stat(int(entry.name))[1]), []).append(int(entry.name))
            except (OSError, IndexError):
                continue  # gone meanwhile
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(children.get(current, ()))
    return tree


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of process `pid` and its descendants (all threads), in seconds."""
    total = 0
    for member in process_tree(pid):
        with contextlib.suppress(OSError):  # a child that just exited
            fields = _stat(member)
            total += int(fields[11]) + int(fields[12])  # utime, stime: fields 14 and 15 of stat(5)
    return total / TICK


def memory_mb(pid: int, field_name: str) -> float:
    """`VmRSS` (now) or `VmHWM` (peak) of process `pid`, summed over its descendants, in MB."""
    total = 0
    for member in process_tree(pid):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{member}/status").read_text().splitlines():
                if line.startswith(field_name + ":"):
                    total += int(line.split()[1])
    return total / KB_PER_MB


def core_times() -> dict[int, tuple[int, int]]:
    """(busy, total) jiffies of each core."""
    times = {}
    for line in Path("/proc/stat").read_text().splitlines():
        name, *values = line.split()
        if name.startswith("cpu") and name != "cpu":
            numbers = [int(v) for v in values]
            idle = numbers[3] + numbers[4]  # idle, iowait
            times[int(name[3:])] = (sum(numbers) - idle, sum(numbers))
    return times


def observed(pid: int, work: Callable[[], Throughput]) -> Throughput:
    """Run `work`, adding to its result the CPU time `pid` spent per request and each core's load meanwhile.

    `own_share` tells whether other processes of the machine ran on the server's core: the server
    is pinned there, so its CPU time should be nearly all of that core's busy time.
    """
    cpu_before, cores_before = cpu_seconds(pid), core_times()
    phase = work()
    cpu_after, cores_after = cpu_seconds(pid), core_times()
    phase.cpu_ms = (cpu_after - cpu_before) * 1000 / phase.count if phase.count else float("nan")
    busy_jiffies = {core: busy - cores_before.get(core, (0, 0))[0] for core, (busy, _) in cores_after.items()}
    for core, (_, total) in cores_after.items():
        phase.busy[core] = 100 * busy_jiffies[core] / max(1, total - cores_before.get(core, (0, 0))[1])
    phase.own_share = 100 * (cpu_after - cpu_before) * TICK / max(1, busy_jiffies.get(server_core_of(pid), 0))
    return phase


def server_core_of(pid: int) -> int:
    """The (first) core `pid` is pinned to."""
    return min(os.sched_getaffinity(pid))


# --- load phases ------------------------------------------------------------------------------------------------


def python_phase(target: load.Target, connections: int, seconds: float) -> load.Result:
    """One phase of the Python client, on a fresh event loop."""
    load.install_uvloop()
    return asyncio.run(load.run(target, connections, seconds))


def wrk_script(target: load.Target, workdir: Path) -> Path:
    """A Lua script that makes `wrk` POST the target's body and print its figures as one JSON line."""
    auth = f'wrk.headers["Authorization"] = "Bearer {target.key}"\n' if target.key else ""
    script = workdir / f"wrk-{len(target.body)}.lua"
    script.write_text(
        'wrk.method = "POST"\n'
        f"wrk.body = [==[{target.body.decode()}]==]\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
        f"{auth}"
        "function done(summary, latency, requests)\n"
        "  local e = summary.errors\n"
        '  io.write(string.format(\'WRKJSON {"requests":%d,"seconds":%f,"failed":%d,"errors":%d,"p99_us":%d}\\n\',\n'
        "    summary.requests, summary.duration / 1e6, e.status,\n"
        "    e.connect + e.read + e.write + e.status + e.timeout, latency:percentile(99)))\n"
        "end\n"
    )
    return script


def wrk_phase(target: load.Target, connections: int, seconds: float, workdir: Path, core: int) -> Throughput:
    """One `wrk` phase: one thread, `connections` connections, on the load core."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "-s", str(wrk_script(target, workdir)), target.url]
    done = subprocess.run(command, capture_output=True, text=True, preexec_fn=pinned(core), check=False)
    found = WRK_LINE.search(done.stdout)
    if found is None:
        raise RuntimeError(f"wrk failed: {done.stdout}{done.stderr}")
    figures = json.loads(found[1])
    answered = figures["requests"] - figures["failed"]  # wrk counts non-2xx answers as requests too
    return Throughput(answered / figures["seconds"], figures["p99_us"] / 1000, answered, figures["errors"])


def throughput(target: load.Target, connections: int, pid: int, workdir: Path, opts: Options) -> Throughput:
    """A throughput phase after a short warm-up, with the server's CPU per request."""
    python_phase(target, connections, opts.warmup)
    if opts.use_wrk:
        try:
            return observed(pid, lambda: wrk_phase(target, connections, opts.seconds, workdir, opts.load_core))
        except (OSError, RuntimeError) as error:
            print(f"  {error}\n  using the Python client for this phase instead", flush=True)
    return observed(pid, lambda: python_throughput(target, connections, opts.seconds))


def python_throughput(target: load.Target, connections: int, seconds: float) -> Throughput:
    """A throughput phase of the Python client, when wrk is missing."""
    result = python_phase(target, connections, seconds)
    return Throughput(result.rate, result.latency_ms(99), result.count, result.errors, tool="python")


def measure(url: str, key: str | None, pid: int, workdir: Path, opts: Options) -> Measurement:
    """All load phases against one target, whose server process is `pid`."""
    plain, stream = load.Target(url, load.request_body(False), key), load.Target(url, load.request_body(True), key)
    python_phase(plain, 1, opts.warmup)
    single = python_phase(plain, 1, opts.latency_seconds)
    print(f"  1 connection: {single.count:,} requests, p50 {single.latency_ms(50):.3f} ms", flush=True)
    requests = throughput(plain, 64, pid, workdir, opts)
    print(f"  64 connections: {requests.rate:,.0f} requests/s, p99 {requests.p99_ms:.2f} ms", flush=True)
    streams = throughput(stream, 32, pid, workdir, opts)
    print(f"  32 connections: {streams.rate:,.0f} streams/s, p99 {streams.p99_ms:.2f} ms", flush=True)
    first_byte = python_phase(stream, 32, opts.latency_seconds)
    print(f"  32 connections: first byte p50 {first_byte.first_byte_ms(50):.2f} ms", flush=True)
    return Measurement(single, requests, streams, first_byte)


# --- the run ----------------------------------------------------------------------------------------------------


def first_start(workdir: Path, port: int, upstream_port: int, opts: Options) -> tuple[str, float]:
    """Start dtbot on the fresh database (it migrates and prints an admin key) and stop it: the key, the seconds."""
    process, seconds, log = start_dtbot(workdir, port, upstream_port, opts)
    stop(process)
    found = KEY_LINE.search(log.read_text())
    if found is None:
        sys.exit(f"no bootstrap key in dtbot's output:\n{log.read_text()}")
    return found[0], seconds


def timed_starts(
    workdir: Path, port: int, upstream_port: int, opts: Options
) -> tuple[subprocess.Popen[bytes], Path, list[float]]:
    """Start dtbot `starts` times on the migrated database; the last one is left running, with its log."""
    times = []
    while True:
        process, seconds, log = start_dtbot(workdir, port, upstream_port, opts)
        times.append(seconds)
        if len(times) == opts.starts:
            return process, log, times
        stop(process)


def measure_dtbot(workdir: Path, upstream_port: int, opts: Options) -> tuple[Measurement, Startup]:
    """Time dtbot's start-ups, then load the last one started."""
    port = free_port()
    key, first = first_start(workdir, port, upstream_port, opts)
    process, log, later = timed_starts(workdir, port, upstream_port, opts)
    print(f"dtbot started in {first:.2f}s (fresh database), then {', '.join(f'{s:.2f}s' for s in later)}")
    try:
        time.sleep(1)  # let start-up work settle before the idle reading
        url = f"http://127.0.0.1:{port}/api/v1/chat/completions"
        result = measure_with_memory(url, key, process.pid, workdir, opts)
    finally:
        stop(process)
    if errors(result):
        print(f"dtbot answered {errors(result)} requests with errors; the end of its log:\n{log.read_text()[-2000:]}")
    return result, Startup(first, later)


def measure_with_memory(url: str, key: str | None, pid: int, workdir: Path, opts: Options) -> Measurement:
    """`measure`, with the server's RSS before (idle), at its peak and after."""
    idle = memory_mb(pid, "VmRSS")
    result = measure(url, key, pid, workdir, opts)
    result.rss_idle_mb, result.rss_peak_mb, result.rss_after_mb = idle, memory_mb(pid, "VmHWM"), memory_mb(pid, "VmRSS")
    return result


def run(opts: Options) -> tuple[Measurement, Measurement, Startup]:
    """The whole benchmark in a temporary directory."""
    os.sched_setaffinity(0, {opts.load_core})  # this process is the Python load client
    with tempfile.TemporaryDirectory(prefix="dtbot-bench-") as directory:
        workdir = Path(directory)
        port = free_port()
        with upstream(port, opts) as process:
            print(f"upstream alone (core {opts.load_core}):", flush=True)
            base = measure_with_memory(f"http://127.0.0.1:{port}/v1/chat/completions", None, process.pid, workdir, opts)
            print(f"dtbot (core {opts.server_core}) in front of the upstream (core {opts.load_core}):", flush=True)
            dtbot, startup = measure_dtbot(workdir, port, opts)
    return base, dtbot, startup


# --- the table --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One line of the table; `passed` is None for a metric without a bar."""

    metric: str
    upstream: float | None
    dtbot: float
    against: str = ""
    bar: str = ""
    passed: bool | None = None
    digits: int = 2

    def markdown(self) -> str:
        upstream = "—" if self.upstream is None else f"{self.upstream:,.{self.digits}f}"
        result = "" if self.passed is None else ("PASS" if self.passed else "FAIL")
        cells = [self.metric, upstream, f"{self.dtbot:,.{self.digits}f}", self.against, self.bar, result]
        return "| " + " | ".join(cells) + " |"


def ratio(ours: float, base: float) -> str:
    """`ours` as a multiple of `base`."""
    return f"{ours / base:.2f}x" if base else ""


def added(ours: float, base: float, digits: int) -> str:
    """What dtbot adds to the upstream's figure, in ms."""
    return f"{ours - base:+.{digits}f} ms"


def latency_rows(base: Measurement, dtbot: Measurement) -> list[Row]:
    """Latency at one connection: the amount dtbot adds."""
    rows = []
    for pct in (50, 99):
        up, ours = base.single.latency_ms(pct), dtbot.single.latency_ms(pct)
        bar, passed = (f"< +{BAR_ADDED_MS} ms", ours - up < BAR_ADDED_MS) if pct == 50 else ("", None)
        rows.append(Row(f"latency p{pct}, 1 connection (ms)", up, ours, added(ours, up, 3), bar, passed, 3))
    return rows


def first_byte_rows(base: Measurement, dtbot: Measurement) -> list[Row]:
    """Time to the first byte of a stream under load: the amount dtbot adds."""
    rows = []
    for pct in (50, 99):
        up, ours = base.first_byte.first_byte_ms(pct), dtbot.first_byte.first_byte_ms(pct)
        rows.append(Row(f"time to first byte p{pct}, 32 streams (ms)", up, ours, added(ours, up, 2)))
    return rows


def throughput_rows(base: Measurement, dtbot: Measurement) -> list[Row]:
    """Requests and streams per second and their p99: as ratios."""
    req, stream = (base.requests, dtbot.requests), (base.streams, dtbot.streams)
    return [
        Row("requests/s, 64 connections", req[0].rate, req[1].rate, ratio(req[1].rate, req[0].rate),
            f">= {BAR_RPS:,.0f}", req[1].rate >= BAR_RPS, 0),
        Row("p99, 64 connections (ms)", req[0].p99_ms, req[1].p99_ms, ratio(req[1].p99_ms, req[0].p99_ms)),
        Row("streams/s (20 chunks), 32 connections", stream[0].rate, stream[1].rate,
            ratio(stream[1].rate, stream[0].rate), f">= {BAR_STREAMS:,.0f}", stream[1].rate >= BAR_STREAMS, 0),
        Row("stream p99, 32 connections (ms)", stream[0].p99_ms, stream[1].p99_ms,
            ratio(stream[1].p99_ms, stream[0].p99_ms)),
    ]  # fmt: skip


def cpu_rows(base: Measurement, dtbot: Measurement) -> list[Row]:
    """The server process's CPU time per request and per stream, as ratios."""
    req, stream = (base.requests, dtbot.requests), (base.streams, dtbot.streams)
    return [
        Row("CPU per request (ms)", req[0].cpu_ms, req[1].cpu_ms, ratio(req[1].cpu_ms, req[0].cpu_ms), digits=3),
        Row("CPU per stream (ms)", stream[0].cpu_ms, stream[1].cpu_ms, ratio(stream[1].cpu_ms, stream[0].cpu_ms),
            digits=3),
    ]  # fmt: skip


def resource_rows(base: Measurement, dtbot: Measurement, startup: Startup) -> list[Row]:
    """Memory and start-up."""
    return [
        Row("RSS idle after start (MB)", base.rss_idle_mb, dtbot.rss_idle_mb, "", f"< {BAR_RSS_MB:.0f}",
            dtbot.rss_idle_mb < BAR_RSS_MB, 1),
        Row("RSS peak under load (MB)", base.rss_peak_mb, dtbot.rss_peak_mb, digits=1),
        Row("RSS after load (MB)", base.rss_after_mb, dtbot.rss_after_mb, digits=1),
        Row("start-up, migrated database (s, median)", None, startup.median, "", f"< {BAR_START_S}",
            startup.median < BAR_START_S),
        Row("first start, fresh database (s)", None, startup.first, "migrates, creates key"),
    ]  # fmt: skip


def table(base: Measurement, dtbot: Measurement, startup: Startup) -> list[str]:
    """The result as a Markdown table: metric, upstream alone, dtbot, dtbot against it, bar, verdict."""
    rows = latency_rows(base, dtbot) + throughput_rows(base, dtbot) + first_byte_rows(base, dtbot)
    rows += cpu_rows(base, dtbot) + resource_rows(base, dtbot, startup)
    header = ["| metric | upstream alone | dtbot | dtbot vs upstream | bar | result |", "|---|--:|--:|--:|--:|:-:|"]
    return header + [row.markdown() for row in rows]


def errors(measurement: Measurement) -> int:
    """Failed requests (non-2xx answers, broken connections) in all phases of one target."""
    phases = (measurement.single, measurement.requests, measurement.streams, measurement.first_byte)
    return sum(phase.errors for phase in phases)


def notes(base: Measurement, dtbot: Measurement, opts: Options) -> list[str]:
    """Checks that the load side was not the bottleneck, and any errors."""
    load_core, server_core = opts.load_core, opts.server_core
    lines = []
    for name, phase in (("64 connections", dtbot.requests), ("streams", dtbot.streams)):
        lines.append(
            f"- dtbot {name} ({phase.tool}): core {server_core} {phase.busy.get(server_core, 0):.0f}% busy "
            f"({phase.own_share:.0f}% of it dtbot), core {load_core} (load + upstream) "
            f"{phase.busy.get(load_core, 0):.0f}% busy"
        )
    if min(phase.own_share for phase in (dtbot.requests, dtbot.streams)) < 90:
        lines.append(f"- WARNING: other processes ran on core {server_core}: dtbot's throughput figures are low")
    if max(phase.busy.get(load_core, 0) for phase in (dtbot.requests, dtbot.streams)) > 80:
        lines.append(f"- WARNING: core {load_core} was nearly saturated (other processes on it?): figures may be low")
    for name, ours, theirs in (
        ("requests", dtbot.requests.rate, base.requests.rate),
        ("streams", dtbot.streams.rate, base.streams.rate),
    ):
        if ours and theirs < 2 * ours:
            lines.append(f"- WARNING: the upstream alone served {name} only {theirs / ours:.1f}x as fast as dtbot")
    lines.append(f"- errors (non-2xx or broken connections): upstream {errors(base)}, dtbot {errors(dtbot)}")
    return lines


def parse() -> Options:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10, help="length of each throughput phase [10]")
    parser.add_argument("--latency-seconds", type=float, default=5, help="1-connection and first-byte phases [5]")
    parser.add_argument("--warmup", type=float, default=1, help="warm-up before each phase [1]")
    parser.add_argument("--starts", type=int, default=3, help="timed starts on the migrated database [3]")
    parser.add_argument("--server-core", type=int, default=0, help="the core dtbot runs on [0]")
    parser.add_argument("--load-core", type=int, default=1, help="the core of the upstream and load [1]")
    parser.add_argument("--src", type=Path, help="measure the dtbot package in this directory (e.g. another checkout)")
    parser.add_argument("--no-wrk", action="store_true", help="use the Python client for the throughput rows too")
    parser.add_argument("--chunk-delay-ms", type=float, default=0.0, help="upstream pause between stream events [0]")
    args = parser.parse_args()
    use_wrk = not args.no_wrk and shutil.which("wrk") is not None
    if not use_wrk and not args.no_wrk:
        print(f"{WRK_HINT}; using the Python client, which needs more CPU per request on the load core.")
    return Options(
        seconds=args.seconds,
        latency_seconds=args.latency_seconds,
        warmup=args.warmup,
        starts=max(1, args.starts),
        server_core=args.server_core,
        load_core=args.load_core,
        src=args.src,
        use_wrk=use_wrk,
        chunk_delay_ms=args.chunk_delay_ms,
    )


def dtbot_source(opts: Options) -> str:
    """Where the measured dtbot package comes from."""
    if opts.src is not None:
        return str(opts.src / "dtbot")
    spec = importlib.util.find_spec("dtbot")  # finds the package without running it
    return str(Path(spec.origin).parent) if spec and spec.origin else "dtbot not found"


def main() -> None:
    """Run and print the table."""
    opts = parse()
    if not hasattr(os, "sched_setaffinity") or not Path("/proc/self/stat").exists():
        sys.exit("bench/run.py needs Linux (/proc and CPU affinity)")
    base, dtbot, startup = run(opts)
    when = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), "unknown CPU")  # fmt: skip
    print(f"\n{when}, {cpu}, {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    print(f"dtbot ({dtbot_source(opts)}) on core {opts.server_core}; upstream and load on core {opts.load_core}\n")
    print("\n".join(table(base, dtbot, startup)))
    print()
    print("\n".join(notes(base, dtbot, opts)))


if __name__ == "__main__":
    main()
