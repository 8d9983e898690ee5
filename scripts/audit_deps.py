"""Audit the installed (resolved) dependencies for known vulnerabilities with pip-audit.

Fails on a finding that `.ci/audit-allowlist.toml` does not list (each entry names the advisory
and says why it is accepted), and fails clearly when pip-audit could not audit a dependency:
pip-audit reports an unreachable vulnerability service as "not found on PyPI" and then says
"No known vulnerabilities found", which must not pass for a clean audit.

    .venv/bin/python scripts/audit_deps.py    # exit 0 clean, 1 findings, 2 could not audit
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ALLOWLIST = Path(__file__).resolve().parents[1] / ".ci" / "audit-allowlist.toml"


@dataclass(frozen=True)
class Allowed:
    advisory: str  # the id pip-audit prints (PYSEC-..., GHSA-..., CVE-...)
    package: str
    reason: str


def read_allowlist(path: Path) -> list[Allowed]:
    """Entries of `[[allow]]` tables; one without a reason is an error, not a silent pass."""
    data = tomllib.loads(path.read_text()) if path.exists() else {}
    entries = []
    for number, raw in enumerate(data.get("allow", []), 1):
        advisory, package = str(raw.get("id", "")), str(raw.get("package", "")).lower()
        entry = Allowed(advisory, package, str(raw.get("reason", "")).strip())
        if not (entry.advisory and entry.package and entry.reason):
            raise ValueError(f"{path.name}: entry {number} needs id, package and reason")
        entries.append(entry)
    return entries


def verdict(report: dict[str, Any], allowed: list[Allowed]) -> tuple[int, list[str]]:
    """Exit code and the lines to print for a `pip-audit -f json` report."""
    accepted = {(a.package, a.advisory) for a in allowed}
    findings, unaudited, used = [], [], set()
    for dep in report.get("dependencies", []):
        name = str(dep.get("name", "")).lower()
        if "skip_reason" in dep:
            unaudited.append(f"{dep['name']}: {dep['skip_reason']}")
            continue
        for vuln in dep.get("vulns", []):
            ids = {vuln["id"], *vuln.get("aliases", [])}
            match = {(name, i) for i in ids} & accepted
            if match:
                used |= match
                continue
            fixes = ", ".join(vuln.get("fix_versions", [])) or "none yet"
            findings.append(f"{dep['name']} {dep.get('version')}: {vuln['id']} (fixed in {fixes})")
    lines = [f"vulnerable: {f}" for f in findings]
    lines += [f"allowlist entry no longer needed: {p} {i}" for p, i in sorted(accepted - used)]
    if unaudited:
        lines.append(
            f"could not audit {len(unaudited)} of {len(report.get('dependencies', []))} "
            f"dependencies; first: {unaudited[0]}. The vulnerability service (PyPI's per-version "
            "JSON API, or OSV) is not reachable from here: run the audit where it is."
        )
        return 2, lines
    if findings:
        advice = "upgrade, or allow each with a reason"
        lines.append(f"{len(findings)} finding(s) not in {ALLOWLIST.name}: {advice}")
        return 1, lines
    lines.append("dependency audit: no known vulnerabilities outside the allowlist")
    return 0, lines


def main() -> int:
    allowed = read_allowlist(ALLOWLIST)
    command = [sys.executable, "-m", "pip_audit", "-f", "json", "--progress-spinner", "off"]
    done = subprocess.run(
        [*command, "--skip-editable"], capture_output=True, text=True, check=False
    )
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        print(f"pip-audit failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}")
        return 2
    code, lines = verdict(report, allowed)
    print("\n".join(lines))
    return code


if __name__ == "__main__":
    raise SystemExit(main())
