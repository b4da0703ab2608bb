"""The shipped Grafana dashboard and Prometheus rules: well-formed, and valid PromQL as
Prometheus's own ``promtool`` reads it (Debian's ``prometheus`` package). The alert rules'
unit tests run too. That every metric they name is exposed by a real node is checked in
tests/multinode/test_metrics.py."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.databases import unavailable
from tests.support.server import ROOT

DEPLOY = ROOT / "deploy"
DASHBOARD = DEPLOY / "grafana" / "raasel.json"
PROMETHEUS = DEPLOY / "prometheus"
# Grafana's template variables, replaced by what they stand for before promtool reads them.
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$instance": ".*", "${datasource}": "prometheus"}


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        unavailable("promtool NOT FOUND: install Debian's `prometheus` (make test-deps)")
    assert found is not None
    return found


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [promtool(), *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )


def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return loaded


def test_the_dashboard_is_a_grafana_dashboard_of_prometheus_panels() -> None:
    board = dashboard()
    assert board["uid"] and board["title"] and isinstance(board["schemaVersion"], int)
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    ids = [panel["id"] for panel in board["panels"]]
    assert len(ids) == len(set(ids)), "panel ids are unique"
    for panel in board["panels"]:
        assert panel["type"] == "timeseries" and panel["title"]
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        grid = panel["gridPos"]
        assert grid["w"] > 0 and grid["h"] > 0 and grid["x"] >= 0 and grid["x"] + grid["w"] <= 24
        refs = [t["refId"] for t in panel["targets"]]
        assert panel["targets"] and len(refs) == len(set(refs))
        for target in panel["targets"]:
            assert target["expr"].strip() and "$instance" in target["expr"]


def test_the_dashboard_queries_are_valid_promql(tmp_path: Path) -> None:
    """Each panel query as a recording rule: ``promtool check rules`` parses every one."""
    rules = []
    for panel in dashboard()["panels"]:
        for target in panel["targets"]:
            expr = target["expr"]
            for variable, value in GRAFANA_VARIABLES.items():
                expr = expr.replace(variable, value)
            rules.append({"record": f"raasel:panel{panel['id']}_{target['refId']}", "expr": expr})
    (tmp_path / "panels.yml").write_text(
        yaml.safe_dump({"groups": [{"name": "p", "rules": rules}]})
    )
    checked = run("check", "rules", "panels.yml", cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"{len(rules)} rules found" in checked.stdout


def test_the_alert_rules_and_scrape_config_pass_promtool_and_their_unit_tests() -> None:
    rules = yaml.safe_load((PROMETHEUS / "raasel-alerts.yml").read_text())
    for rule in rules["groups"][0]["rules"]:
        assert rule["alert"].startswith("Raasel") and rule["labels"]["severity"]
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]
    checked = run("check", "rules", "raasel-alerts.yml", cwd=PROMETHEUS)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    config = run("check", "config", "prometheus.yml", cwd=PROMETHEUS)
    assert config.returncode == 0, config.stdout + config.stderr
    tested = run("test", "rules", "raasel-alerts.test.yml", cwd=PROMETHEUS)
    assert tested.returncode == 0, tested.stdout + tested.stderr


@pytest.mark.parametrize("name", ["raasel-alerts.yml", "raasel-alerts.test.yml", "prometheus.yml"])
def test_the_prometheus_files_are_yaml(name: str) -> None:
    assert isinstance(yaml.safe_load((PROMETHEUS / name).read_text()), dict)
