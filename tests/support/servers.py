"""Run `dtbot serve` as a real subprocess on a free port and talk to it over HTTP."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import httpx

from tests.support.backends import Backend

KEY_PATTERN = re.compile(r"^(dtb_[A-Za-z0-9_-]{43})$", re.MULTILINE)
# Keep the suite's own traffic under the default per-key limit; tests of the limit set their own.
BASE_ENV = {"API_RATE_LIMIT": "100000", "PYTHONUNBUFFERED": "1"}


def free_port() -> int:
    """A port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def child_env(extra: Mapping[str, str]) -> dict[str, str]:
    """The environment for a dtbot subprocess: ours without dtbot's variables, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DTBOT_", "DATABASE_", "REDIS_", "OPENAI_"))}
    return env | BASE_ENV | dict(extra)


class Server:
    """One `dtbot serve` process on `backend`; `admin_key` is the key it printed on first start (if any)."""

    def __init__(
        self,
        workdir: Path,
        backend: Backend,
        env: Mapping[str, str] | None = None,
        port: int | None = None,
        args: Sequence[str] = (),
    ) -> None:
        self.backend = backend
        self.args = list(args)  # more `dtbot serve` options
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}/api"
        self.workdir = workdir
        self.env = child_env(backend.env() | dict(env or {}))
        self.log_path = workdir / f"server-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.admin_key: str | None = None

    def start(self, timeout: float = 30) -> Server:
        """Start and wait until `/api/health` answers."""
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "dtbot", "serve", "--port", str(self.port), *self.args],
            cwd=self.workdir,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dtbot serve exited with {self.process.returncode}:\n{self.output()}")
            try:
                httpx.get(f"{self.base}/health", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            self.stop()
            raise RuntimeError(f"dtbot serve did not answer within {timeout}s:\n{self.output()}")
        found = KEY_PATTERN.findall(self.output())
        self.admin_key = self.admin_key or (found[0] if found else None)
        return self

    def output(self) -> str:
        """Everything the process printed so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def client(self, key: str | None = None) -> httpx.Client:
        """An HTTP client for the API, authenticated with `key` (the admin key by default)."""
        key = key or self.admin_key
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.base, headers=headers, timeout=10)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Stop the process (SIGTERM, or as told) and wait for it."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
