"""deploy/: the Prometheus alerting rules (checked and each fired once by promtool) and the
Grafana dashboard, both on the server's own metric names."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from claude_chat.server.metrics import Metrics

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
ALERTS = DEPLOY / "alerts.yml"
ALERTS_TEST = DEPLOY / "alerts_test.yml"
DASHBOARD = DEPLOY / "grafana-dashboard.json"
CLUSTER = Path(__file__).resolve().parent.parent / "claude_chat" / "server" / "cluster.py"


def cluster_names() -> set[str]:
    """The metrics a node adds with --redis, read from server/cluster.py's source: building
    the cluster's metrics needs a Redis."""
    source = CLUSTER.read_text(encoding="utf-8")
    counters = re.findall(r'Counter\(\s*"(claude_chat_\w+)"', source)
    gauges = re.findall(r'Gauge\(\s*"(claude_chat_\w+)"', source)
    return {f"{name}_total" for name in counters} | set(gauges)


needs_promtool = pytest.mark.skipif(
    shutil.which("promtool") is None,
    reason="promtool is not installed (Debian's prometheus package has it)",
)


def promtool(*args: str) -> str:
    done = subprocess.run(
        ["promtool", *args], capture_output=True, text=True, timeout=120, cwd=DEPLOY
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@needs_promtool
def test_the_alert_rules_are_valid_and_each_says_what_to_do() -> None:
    assert "SUCCESS: 7 rules found" in promtool("check", "rules", ALERTS.name)
    rules = ALERTS.read_text().split("- alert: ")[1:]
    for rule in rules:
        assert "summary: " in rule and "description: " in rule, rule.splitlines()[0]


@needs_promtool
def test_each_alert_fires_once_on_synthetic_series() -> None:
    assert "SUCCESS" in promtool("test", "rules", ALERTS_TEST.name)
    alerts = set(re.findall(r"- alert: (\w+)", ALERTS.read_text()))
    # Every alert has a check that it fires (an expected alert), not only one that it does not.
    fired = set(
        re.findall(r"alertname: (\w+)\n\s+exp_alerts:\n\s+- exp_labels", ALERTS_TEST.read_text())
    )
    assert alerts == fired
    assert len(alerts) == 7


def exported_names() -> set[str]:
    suffixes = {
        "counter": ("_total",),
        "histogram": ("", "_bucket", "_count", "_sum"),
        "gauge": ("",),
    }
    return {
        metric.name + suffix
        for metric in Metrics().registry.collect()
        for suffix in suffixes.get(metric.type, ("",))
    }


def test_the_rules_and_the_dashboard_watch_the_servers_metric_names() -> None:
    exported = exported_names()
    watched = set(re.findall(r"claude_chat_\w+", ALERTS.read_text()))
    dashboard = json.loads(DASHBOARD.read_text())
    expressions = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    charted = {name for expr in expressions for name in re.findall(r"claude_chat_\w+", expr)}
    # What only a cluster node exports: the lease rule needs both of these.
    assert {"claude_chat_lease_renewals_total", "claude_chat_leases"} <= cluster_names()
    assert watched - exported <= cluster_names()
    assert "claude_chat_rejections_total" in exported
    assert charted <= exported
    for name in (
        "claude_chat_time_to_first_token_seconds_bucket",
        "claude_chat_turns_total",
        "claude_chat_processes",
        "claude_chat_queue_wait_seconds_bucket",
        "claude_chat_cost_usd_total",
    ):
        assert name in charted, name
    assert len({panel["id"] for panel in dashboard["panels"]}) == len(dashboard["panels"])
