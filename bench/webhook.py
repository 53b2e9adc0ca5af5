"""The DingTalk webhook under load: acknowledgement latency at a steady rate while the model takes seconds.

Signed callbacks are sent open-loop (on schedule, not after the previous
answer) at `--rate` messages/s for `--seconds` to one `dtbot serve` process,
whose model (the fake LLM) takes `--model-seconds` to answer each, after a
second of the same, unmeasured, to warm up. DingTalk
needs the callback acknowledged quickly, whatever the model does; the answers
go out later through the sessionWebhook (the fake DingTalk), each exactly once.
dtbot runs on `--server-core`; the fakes and this sender on `--load-core`.

    .venv/bin/python bench/webhook.py [--rate 200] [--seconds 20] [--model-seconds 2] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import run
from load import percentile

sys.path.insert(0, str(run.HERE.parent))  # the fakes of the test suite
from tests.fakes.dingtalk import callback_payload, signed_callback_headers

APP_SECRET = "SECbench-app-secret"
WARMUP_SECONDS = 1.0  # of callbacks at the rate before the measured ones (first connections, first answers)
CONFIG = """\
[dingtalk]
workers = {workers}
sender_rate_per_minute = 0
"""


@dataclass
class Sent:
    """What the sender saw: acknowledgement latencies (s), failures, the achieved rate and the sessions used."""

    latencies: list[float]
    failures: Counter[str]
    rate: float
    sessions: list[str]


@contextmanager
def fake(module: str, core: int) -> Any:
    """`python -m tests.fakes.MODULE` on the load core; yields the JSON line it prints."""
    command = [sys.executable, "-W", "ignore::RuntimeWarning", "-m", f"tests.fakes.{module}"]
    process = subprocess.Popen(
        command, cwd=run.HERE.parent, stdout=subprocess.PIPE, text=True, preexec_fn=run.pinned(core)
    )
    try:
        assert process.stdout is not None
        yield json.loads(process.stdout.readline())
    finally:
        run.stop(process)


def start_dtbot(workdir: Path, llm: dict[str, str], dingtalk: dict[str, str], args: argparse.Namespace) -> Any:
    """`dtbot serve` configured for the robot, pinned to the server core; returns it and its base URL."""
    (workdir / "config.toml").write_text(CONFIG.format(workers=args.workers))
    port = run.free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DTBOT_", "REDIS_", "DINGTALK_", "OPENAI_"))}
    env |= {
        "DATABASE_URL": args.database_url or f"sqlite:///{workdir / 'robot.db'}",
        "REDIS_URL": args.redis_url,
        "DTBOT_CONFIG": str(workdir / "config.toml"),
        "OPENAI_API_KEY": "sk-bench",
        "OPENAI_BASE_URL": llm["openai"],
        "DEFAULT_MODEL": "gpt-4",
        "DINGTALK_APP_KEY": dingtalk["app_key"],
        "DINGTALK_APP_SECRET": APP_SECRET,
        "DINGTALK_API_BASE": dingtalk["url"],
        "DINGTALK_WEBHOOK_ALLOWLIST": dingtalk["url"],
        "LOG_LEVEL": "warning",
    }
    log = (workdir / "dtbot.log").open("wb")
    process = subprocess.Popen(
        [*run.dtbot_command(), "serve", "--port", str(port)],
        cwd=workdir,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        preexec_fn=run.pinned(args.server_core),
    )
    run.wait_http(f"http://127.0.0.1:{port}/api/health", process, 60)
    return process, f"http://127.0.0.1:{port}/api"


async def send_all(base: str, dingtalk_url: str, args: argparse.Namespace, seconds: float, tag: str) -> Sent:
    """Send `rate × seconds` callbacks on schedule; each asks the model to take `model_seconds`."""
    total = int(args.rate * seconds)
    latencies: list[float] = []
    failures: Counter[str] = Counter()
    sessions = [f"{tag}-{os.getpid()}-{number}" for number in range(total)]
    connector = aiohttp.TCPConnector(limit=512)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30)) as http:

        async def one(number: int, session: str) -> None:
            text = f"问题 {session} [[fake:delay={args.model_seconds}]]"
            webhook = f"{dingtalk_url}/robot/sendBySession?session={session}"
            payload = callback_payload(text, session_webhook=webhook, sender=f"staff{number % args.senders}")
            started = time.perf_counter()
            try:
                async with http.post(
                    f"{base}/dingtalk/webhook", json=payload, headers=signed_callback_headers(APP_SECRET)
                ) as response:
                    await response.read()
                    if response.status != 200:
                        failures[f"HTTP {response.status}"] += 1
                        return
            except (aiohttp.ClientError, TimeoutError) as error:
                failures[type(error).__name__] += 1
                return
            latencies.append(time.perf_counter() - started)

        began = time.perf_counter()
        tasks = []
        for number, session in enumerate(sessions):
            delay = began + number / args.rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(number, session)))
        await asyncio.gather(*tasks)
        rate = total / (time.perf_counter() - began)
    return Sent(latencies, failures, rate, sessions)


def queue_depth(base: str) -> float:
    """`dtbot_robot_queue_depth` from /metrics."""
    with urllib.request.urlopen(base.removesuffix("/api") + "/metrics", timeout=5) as response:
        for line in response.read().decode().splitlines():
            if line.startswith("dtbot_robot_queue_depth "):
                return float(line.split()[1])
    return float("nan")


def replies(dingtalk_url: str, sessions: set[str], deadline: float) -> Counter[str]:
    """Replies per session once every session has one (or at the deadline)."""
    while True:
        with urllib.request.urlopen(f"{dingtalk_url}/_fake/requests", timeout=30) as response:
            recorded = json.load(response)
        counts = Counter(r["query"].get("session") for r in recorded if r["query"].get("session") in sessions)
        if len(counts) >= len(sessions) or time.monotonic() > deadline:
            return counts
        time.sleep(1)


def report(sent: Sent, counts: Counter[str], depth: float, drained: float, args: argparse.Namespace) -> list[str]:
    """The results as Markdown lines."""
    ms = [latency * 1000 for latency in sent.latencies]
    expected = len(sent.sessions)
    duplicates = sum(count - 1 for count in counts.values() if count > 1)
    p99 = percentile(ms, 99) if ms else float("nan")
    drain = f"{drained:.1f}" if len(counts) == expected else "not yet (the queue was still draining)"
    return [
        "| measure | value |",
        "|---|--:|",
        f"| callbacks sent (target {args.rate:g}/s for {args.seconds:g} s) | {expected:,} |",
        f"| achieved send rate (/s) | {sent.rate:,.1f} |",
        f"| acknowledged with 200 | {len(ms):,} |",
        f"| failed | {sum(sent.failures.values())} {dict(sent.failures) or ''} |",
        f"| acknowledgement p50 (ms) | {percentile(ms, 50):.2f} |" if ms else "| acknowledgement p50 (ms) | — |",
        f"| acknowledgement p99 (ms) | {p99:.2f} |",
        f"| acknowledgement max (ms) | {max(ms):.2f} |" if ms else "| acknowledgement max (ms) | — |",
        f"| model time per answer (s) | {args.model_seconds:g} |",
        f"| queue depth when sending ended | {depth:,.0f} |",
        f"| replies delivered / expected, by {args.drain_seconds:g} s after sending | {len(counts):,} / {expected:,} |",
        f"| duplicate replies | {duplicates} |",
        f"| all replies delivered after sending ended (s) | {drain} |",
        f"| ack p99 < {args.bar_ms:g} ms | {'PASS' if p99 < args.bar_ms else 'FAIL'} |",
    ]


def parse() -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200, help="callbacks per second [200]")
    parser.add_argument("--seconds", type=float, default=20, help="how long to send [20]")
    parser.add_argument("--model-seconds", type=float, default=2, help="how long the model takes per answer [2]")
    parser.add_argument("--workers", type=int, default=32, help="dingtalk.workers: answers at once [32, the default]")
    parser.add_argument("--senders", type=int, default=500, help="distinct people writing to the robot [500]")
    parser.add_argument("--drain-seconds", type=float, default=120, help="how long to wait for the replies [120]")
    parser.add_argument("--quick", action="store_true", help="5 s of sending")
    parser.add_argument("--bar-ms", type=float, default=50, help="the acknowledgement p99 to stay under [50]")
    parser.add_argument("--database-url", default="", help="DATABASE_URL (default: a SQLite file)")
    parser.add_argument("--redis-url", default="", help="REDIS_URL (default: the in-process cache)")
    parser.add_argument("--server-core", type=int, default=0)
    parser.add_argument("--load-core", type=int, default=1)
    args = parser.parse_args()
    if args.quick:
        args.seconds = 5
    return args


def main() -> None:
    """Run the fakes and dtbot, send, wait for the replies, print the table."""
    args = parse()
    os.sched_setaffinity(0, {args.load_core})
    with tempfile.TemporaryDirectory(prefix="dtbot-webhook-") as directory, ExitStack() as stack:
        llm = stack.enter_context(fake("llm", args.load_core))
        dingtalk = stack.enter_context(fake("dingtalk", args.load_core))
        process, base = start_dtbot(Path(directory), llm, dingtalk, args)
        try:
            run.load.install_uvloop()
            asyncio.run(send_all(base, dingtalk["url"], args, WARMUP_SECONDS, "warmup"))  # not measured
            sent = asyncio.run(send_all(base, dingtalk["url"], args, args.seconds, "bench"))
            ended, depth = time.monotonic(), queue_depth(base)
            counts = replies(dingtalk["url"], set(sent.sessions), ended + args.drain_seconds)
            drained = time.monotonic() - ended
        finally:
            run.stop(process)
    when = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    backend = "MySQL + Redis" if args.database_url else "SQLite, in-process queue"
    print(f"\n{when}, {os.cpu_count()} cores; dtbot on core {args.server_core} ({backend}, {args.workers} slots)")
    print("\n".join(report(sent, counts, depth, drained, args)))


if __name__ == "__main__":
    main()
