"""The dependency audit's decision over pip-audit's JSON report: it fails on a finding the
allowlist does not accept, and on dependencies it could not audit (never a false "clean")."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.conftest import ROOT


def load_audit() -> ModuleType:
    spec = importlib.util.spec_from_file_location("audit_deps", ROOT / "scripts" / "audit_deps.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


audit = load_audit()
VULN = {"id": "PYSEC-2024-1", "aliases": ["GHSA-aaaa-bbbb-cccc"], "fix_versions": ["3.10.2"]}


def report(*deps: dict[str, Any]) -> dict[str, Any]:
    """Shaped as `pip-audit -f json` prints it."""
    return {"dependencies": list(deps), "fixes": []}


def test_a_finding_outside_the_allowlist_fails() -> None:
    code, lines = audit.verdict(
        report({"name": "aiohttp", "version": "3.10.1", "vulns": [VULN]}), []
    )
    assert code == 1
    assert "vulnerable: aiohttp 3.10.1: PYSEC-2024-1 (fixed in 3.10.2)" in lines


def test_an_allowed_finding_passes_by_any_of_its_ids_and_stale_entries_are_named() -> None:
    allowed = [
        audit.Allowed("GHSA-aaaa-bbbb-cccc", "aiohttp", "not reachable from our code"),
        audit.Allowed("PYSEC-2020-9", "jinja2", "old"),
    ]
    dep = {"name": "aiohttp", "version": "3.10.1", "vulns": [VULN]}
    code, lines = audit.verdict(
        report(dep, {"name": "redis", "version": "5.2.1", "vulns": []}), allowed
    )
    assert code == 0
    assert lines == [
        "allowlist entry no longer needed: jinja2 PYSEC-2020-9",
        "dependency audit: no known vulnerabilities outside the allowlist",
    ]


def test_unaudited_dependencies_fail_clearly() -> None:
    """What pip-audit prints when its vulnerability service is unreachable (as on the
    development machine, which reaches PyPI's index but not its per-version JSON API)."""
    skipped = {
        "name": "aiogram",
        "skip_reason": "Dependency not found on PyPI and could not be audited: aiogram (3.31.0)",
    }
    code, lines = audit.verdict(
        report(skipped, {"name": "redis", "version": "5.2.1", "vulns": []}), []
    )
    assert code == 2
    assert lines[-1].startswith("could not audit 1 of 2 dependencies; first: aiogram:")


def test_an_allowlist_entry_needs_a_reason(tmp_path: Path) -> None:
    path = tmp_path / "allow.toml"
    path.write_text('[[allow]]\nid = "PYSEC-2024-1"\npackage = "aiohttp"\nreason = ""\n')
    with pytest.raises(ValueError, match="needs id, package and reason"):
        audit.read_allowlist(path)


def test_the_committed_allowlist_reads() -> None:
    assert all(entry.reason for entry in audit.read_allowlist(audit.ALLOWLIST))
