#!/usr/bin/env python3
"""Set up `.venv` on first use (and when pyproject.toml changes), then run dtbot or its checks.

    python3 dev.py serve [dtbot serve options]   # the server at http://127.0.0.1:3000/api
    python3 dev.py test [pytest options]         # the whole test suite
    python3 dev.py lint                          # ruff check and ruff format --check
    python3 dev.py dtbot COMMAND ...             # any dtbot command, e.g. `dtbot keys list`

Needs only Python 3.11 or newer.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".installed"


def ensure_environment() -> None:
    """Create the virtual environment and install dtbot with its dev extra, unless already current."""
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == digest:
        return
    if not (BIN / "python").exists():
        print("Creating .venv ...", flush=True)
        venv.create(VENV, with_pip=True)
    print("Installing dtbot and its dev tools into .venv ...", flush=True)
    subprocess.run(
        [str(BIN / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-e", ".[dev]"],
        cwd=ROOT,
        check=True,
    )
    STAMP.write_text(digest)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"serve", "test", "lint", "dtbot"}:
        print(__doc__)
        return 2
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py may be run by an older python3
        print("dtbot needs Python 3.11 or newer", file=sys.stderr)
        return 2
    ensure_environment()
    command, rest = argv[0], argv[1:]
    if command == "serve":
        return subprocess.call([str(BIN / "dtbot"), "serve", *rest], cwd=ROOT)
    if command == "dtbot":
        return subprocess.call([str(BIN / "dtbot"), *rest], cwd=ROOT)
    if command == "test":
        return subprocess.call([str(BIN / "pytest"), *rest], cwd=ROOT)
    paths = ["dtbot", "tests", "dev.py"]
    checked = subprocess.call([str(BIN / "ruff"), "check", *paths], cwd=ROOT)
    return checked or subprocess.call([str(BIN / "ruff"), "format", "--check", *paths], cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
