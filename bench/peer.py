"""dtbot and LiteLLM's proxy side by side: the same fake upstream, the same load, one core each, one run.

The fake OpenAI upstream and the load run on `--load-core`; dtbot, then
LiteLLM's proxy, each alone on `--server-core`. Every phase of `run.py` is
measured against the upstream alone (the baseline), dtbot and LiteLLM, and the
table shows dtbot against LiteLLM as ratios. LiteLLM is installed, pinned, in
its own virtual environment (`bench/.venv-litellm`, made on first use) and
runs as a plain stateless proxy: one worker, a master key, no database.

    .venv/bin/python bench/peer.py [--seconds 10] [--quick] [--json results.json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

import run

LITELLM_VERSION = "1.100.0"  # newer releases need a certifi newer than the registries here have
VENV = run.HERE / ".venv-litellm"
MASTER_KEY = "sk-litellm-bench"
CONFIG = """\
model_list:
  - model_name: gpt-4
    litellm_params:
      model: openai/gpt-4
      api_base: http://127.0.0.1:{upstream}/v1
      api_key: sk-bench
general_settings:
  master_key: {key}
litellm_settings:
  telemetry: false
"""


def litellm() -> Path:
    """The `litellm` command of the pinned install, installing it first when missing."""
    command = VENV / "bin" / "litellm"
    version = VENV / "bin" / "python"
    if command.exists() and _installed_version(version) == LITELLM_VERSION:
        return command
    print(f"installing litellm[proxy]=={LITELLM_VERSION} into {VENV} (once)", flush=True)
    if not version.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    done = subprocess.run(
        [str(VENV / "bin" / "pip"), "install", "-q", f"litellm[proxy]=={LITELLM_VERSION}"],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["pip failed"])[-1]
        sys.exit(f"cannot install LiteLLM {LITELLM_VERSION}: {last}")
    return command


def _installed_version(python: Path) -> str | None:
    if not python.exists():
        return None
    probe = [str(python), "-c", "from importlib.metadata import version; print(version('litellm'))"]
    done = subprocess.run(probe, capture_output=True, text=True, check=False)
    return done.stdout.strip() if done.returncode == 0 else None


def start_litellm(workdir: Path, port: int, upstream_port: int, opts: run.Options) -> tuple[subprocess.Popen, float]:
    """LiteLLM's proxy pinned to the server core; it and the seconds until it answered its liveness route."""
    config = workdir / "litellm.yaml"
    config.write_text(CONFIG.format(upstream=upstream_port, key=MASTER_KEY))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "LITELLM_", "DATABASE_URL"))}
    env |= {"LITELLM_LOG": "ERROR", "PYTHONUNBUFFERED": "1"}
    log = (workdir / "litellm.log").open("wb")
    command = [str(litellm()), "--config", str(config), "--port", str(port), "--num_workers", "1"]
    process = subprocess.Popen(
        command, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT, preexec_fn=run.pinned(opts.server_core)
    )
    try:
        seconds = run.wait_http(f"http://127.0.0.1:{port}/health/liveliness", process, 120)
    except RuntimeError as error:
        run.stop(process)
        sys.exit(f"LiteLLM did not start ({error}):\n{(workdir / 'litellm.log').read_text(errors='replace')[-3000:]}")
    return process, seconds


def measure_litellm(workdir: Path, upstream_port: int, opts: run.Options) -> tuple[run.Measurement, float]:
    """Start LiteLLM, let it settle, load it as dtbot is loaded."""
    port = run.free_port()
    process, seconds = start_litellm(workdir, port, upstream_port, opts)
    print(f"LiteLLM {LITELLM_VERSION} started in {seconds:.2f}s", flush=True)
    try:
        time.sleep(1)
        url = f"http://127.0.0.1:{port}/v1/chat/completions"
        return run.measure_with_memory(url, MASTER_KEY, process.pid, workdir, opts), seconds
    finally:
        run.stop(process)


@dataclass(frozen=True)
class Line:
    """One metric for the three targets; `lower` says whether less is better (for the verdict)."""

    metric: str
    pick: Callable[[run.Measurement], float]
    lower: bool
    digits: int = 2


LINES = [
    Line("latency p50, 1 connection (ms)", lambda m: m.single.latency_ms(50), True, 3),
    Line("latency p99, 1 connection (ms)", lambda m: m.single.latency_ms(99), True, 3),
    Line("requests/s, 64 connections", lambda m: m.requests.rate, False, 0),
    Line("p99, 64 connections (ms)", lambda m: m.requests.p99_ms, True),
    Line("streams/s (20 chunks), 32 connections", lambda m: m.streams.rate, False, 0),
    Line("stream p99, 32 connections (ms)", lambda m: m.streams.p99_ms, True),
    Line("time to first byte p50, 32 streams (ms)", lambda m: m.first_byte.first_byte_ms(50), True),
    Line("CPU per request (ms)", lambda m: m.requests.cpu_ms, True, 3),
    Line("CPU per stream (ms)", lambda m: m.streams.cpu_ms, True, 3),
    Line("RSS idle after start (MB)", lambda m: m.rss_idle_mb, True, 1),
    Line("RSS peak under load (MB)", lambda m: m.rss_peak_mb, True, 1),
]


def table(
    base: run.Measurement, dtbot: run.Measurement, peer: run.Measurement, starts: tuple[float, float]
) -> list[str]:
    """Markdown: metric, upstream alone, dtbot, LiteLLM, dtbot/LiteLLM, which is better."""
    rows = ["| metric | upstream alone | dtbot | LiteLLM | dtbot / LiteLLM | better |", "|---|--:|--:|--:|--:|:-:|"]
    for line in LINES:
        up, ours, theirs = line.pick(base), line.pick(dtbot), line.pick(peer)
        rows.append(_row(line.metric, up, ours, theirs, line.lower, line.digits))
    rows.append(_row("start-up to first 200 (s)", None, starts[0], starts[1], True, 2))
    return rows


def _row(metric: str, up: float | None, ours: float, theirs: float, lower: bool, digits: int) -> str:
    better = "dtbot" if (ours < theirs) == lower else "LiteLLM"
    shown = "—" if up is None else f"{up:,.{digits}f}"
    cells = [metric, shown, f"{ours:,.{digits}f}", f"{theirs:,.{digits}f}", run.ratio(ours, theirs), better]
    return "| " + " | ".join(cells) + " |"


def parse() -> tuple[run.Options, Path | None]:
    """Command-line options (those of run.py that apply, plus --quick and --json)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10, help="length of each throughput phase [10]")
    parser.add_argument("--quick", action="store_true", help="3 s phases and one start, for a quick look")
    parser.add_argument("--server-core", type=int, default=0, help="the core the gateways run on [0]")
    parser.add_argument("--load-core", type=int, default=1, help="the core of the upstream and load [1]")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    seconds = 3.0 if args.quick else args.seconds
    opts = run.Options(
        seconds=seconds,
        latency_seconds=min(5.0, seconds),
        warmup=1.0,
        starts=1 if args.quick else 3,
        server_core=args.server_core,
        load_core=args.load_core,
        src=None,
        use_wrk=shutil.which("wrk") is not None,
    )
    if not opts.use_wrk:
        print(f"{run.WRK_HINT}; using the Python client.")
    return opts, args.json


def main() -> None:
    """Measure the three targets in one run and print the table."""
    opts, json_path = parse()
    litellm()  # install first, outside the timed part
    os.sched_setaffinity(0, {opts.load_core})
    with tempfile.TemporaryDirectory(prefix="dtbot-peer-") as directory:
        workdir = Path(directory)
        port = run.free_port()
        with run.upstream(port, opts) as process:
            print(f"upstream alone (core {opts.load_core}):", flush=True)
            upstream_url = f"http://127.0.0.1:{port}/v1/chat/completions"
            base = run.measure_with_memory(upstream_url, None, process.pid, workdir, opts)
            print(f"dtbot (core {opts.server_core}):", flush=True)
            dtbot, startup = run.measure_dtbot(workdir, port, opts)
            print(f"LiteLLM (core {opts.server_core}):", flush=True)
            peer, peer_start = measure_litellm(workdir, port, opts)
    when = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    print(f"\n{when}, {os.cpu_count()} cores, Python {sys.version.split()[0]}, LiteLLM {LITELLM_VERSION}")
    print(f"each gateway alone on core {opts.server_core}; upstream and load on core {opts.load_core}\n")
    print("\n".join(table(base, dtbot, peer, (startup.median, peer_start))))
    print(f"\nerrors (non-2xx or broken connections): dtbot {run.errors(dtbot)}, LiteLLM {run.errors(peer)}")
    if json_path is not None:
        figures = {"upstream": asdict(base), "dtbot": asdict(dtbot), "litellm": asdict(peer)}
        json_path.write_text(json.dumps(figures, indent=2, default=str))


if __name__ == "__main__":
    main()
