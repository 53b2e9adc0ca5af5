"""pip-audit over the installed dependencies, where its vulnerability service answers.

It skips, never fails, when the service cannot be reached or knows none of the
installed versions (an offline mirror); a known vulnerability fails it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

PIP_AUDIT = Path(sys.executable).with_name("pip-audit")


def audit() -> dict:
    """pip-audit's JSON report of this environment, or a skip saying why there is none."""
    command = [str(PIP_AUDIT), "--local", "--skip-editable", "--progress-spinner", "off", "--format", "json"]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    except subprocess.TimeoutExpired:
        pytest.skip("pip-audit: the vulnerability service did not answer within 180 s")
    try:
        return json.loads(result.stdout)
    except json.JSONDecodeError:
        reason = (result.stderr.strip().splitlines() or ["no output"])[-1]
        pytest.skip(f"pip-audit could not reach its vulnerability service: {reason[:200]}")


def test_no_installed_dependency_has_a_known_vulnerability() -> None:
    dependencies = audit()["dependencies"]
    audited = [dependency for dependency in dependencies if "skip_reason" not in dependency]
    if not audited:
        pytest.skip(f"the vulnerability service knows none of the {len(dependencies)} installed versions")
    vulnerable = {d["name"]: [v["id"] for v in d["vulns"]] for d in audited if d.get("vulns")}
    assert not vulnerable, f"known vulnerabilities: {vulnerable}"
