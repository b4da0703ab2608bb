"""Every metric a node declares moves when what it counts happens, on two real nodes that
share a Redis; and every metric the shipped dashboard and alert rules use is one that a
node's /metrics really exposes (deploy/grafana, deploy/prometheus)."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import httpx
import pytest
import yaml
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from raasel import observability
from tests.multinode.conftest import SpawnCluster
from tests.support.clients import World, unique
from tests.support.server import ROOT, TEST_ENV, RunningServer

pytestmark = pytest.mark.timeout(180)

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
DASHBOARD = ROOT / "deploy" / "grafana" / "raasel.json"
ALERTS = ROOT / "deploy" / "prometheus" / "raasel-alerts.yml"
METRIC_NAME = re.compile(r"\b(raasel_[a-z0-9_]+)")


async def scrape(node: RunningServer) -> Samples:
    async with httpx.AsyncClient(verify=node.ssl_context(), timeout=10) as http:
        response = await http.get(
            f"{node.url}/metrics",
            headers={"Authorization": f"Bearer {TEST_ENV['RAASEL_METRICS_TOKEN']}"},
        )
    assert response.status_code == 200
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum of ``name``'s samples whose labels include ``labels``."""
    wanted = set(labels.items())
    return sum(v for (n, got), v in samples.items() if n == name and wanted <= got)


def grew(name: str, after: Samples, old: Samples, **labels: str) -> bool:
    return total(after, name, **labels) > total(old, name, **labels)


async def until_moved(node: RunningServer, name: str, floor: float, **labels: str) -> float:
    """``name``'s value once it exceeds ``floor`` (what it counts happens after an ack)."""
    deadline = asyncio.get_running_loop().time() + 15
    while True:
        value = total(await scrape(node), name, **labels)
        if value > floor or asyncio.get_running_loop().time() > deadline:
            return value
        await asyncio.sleep(0.05)


def declared_families() -> set[str]:
    """The metric families raasel.observability declares (counters without ``_total``)."""
    assert observability.MESSAGES_STORED is not None  # imported: its metrics are registered
    return {family.name for family in REGISTRY.collect() if family.name.startswith("raasel_")}


def referenced_metrics() -> set[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    exprs += [v["definition"] for v in dashboard["templating"]["list"] if "definition" in v]
    rules = yaml.safe_load(ALERTS.read_text())
    exprs += [rule["expr"] for group in rules["groups"] for rule in group["rules"]]
    return {name for expr in exprs for name in METRIC_NAME.findall(expr)}


async def test_every_declared_metric_moves_and_the_dashboards_use_real_ones(
    spawn_cluster: SpawnCluster, tmp_path: Path
) -> None:
    cluster = spawn_cluster(2, {"RAASEL_TYPING_RATE": "2/60"})
    one, two = cluster.nodes
    before = {node.https_port: await scrape(node) for node in (one, two)}
    world_one, world_two = World(one), World(two)
    try:
        tenant = await world_one.tenant(agents=1)
        customer = await world_one.individual()
        agent = await world_two.login(tenant.agents[0].email, tenant.org["slug"])
        agent_socket = await world_two.socket(agent)  # on node 2: fan-out crosses Redis
        await agent_socket.emit("presence:set", {"availability": "online"})
        opened = await customer.open_conversation(tenant, text="metrics", group="support")
        cid = opened["conversation"]["id"]
        await agent_socket.wait_for(
            "conversation:updated",
            lambda d: d["conversation"]["id"] == cid and d["conversation"]["status"] == "active",
        )
        customer_socket = await world_one.socket(customer)
        ack = await customer_socket.emit(
            "message:send", {"conversation_id": cid, "client_id": unique("m"), "text": "x"}
        )
        assert ack["ok"], ack
        await agent_socket.wait_for(
            "message:new", lambda d: d["message"]["id"] == ack["message"]["id"]
        )
        refusals = [
            await customer_socket.emit("typing:start", {"conversation_id": cid}) for _ in range(4)
        ]
        assert any(r.get("error", {}).get("code") == "rate_limited" for r in refusals)

        after_one, after_two = await scrape(one), await scrape(two)
        old_one, old_two = before[one.https_port], before[two.https_port]

        assert grew("raasel_messages_stored_total", after_one, old_one, kind="text")
        assert grew(
            "raasel_http_request_seconds_count", after_one, old_one, method="POST", status="201"
        )
        assert grew("raasel_events_published_total", after_one, old_one, event="message:new")
        assert grew(
            "raasel_socket_events_total", after_one, old_one, event="message:send", outcome="ok"
        )
        assert grew(
            "raasel_socket_events_total",
            after_one,
            old_one,
            event="typing:start",
            outcome="rate_limited",
        )
        assert grew("raasel_rate_limit_refusals_total", after_one, old_one, limit="typing")
        assert grew("raasel_commit_seconds_count", after_one, old_one)
        assert grew("raasel_commit_batch_units_count", after_one, old_one)
        assert grew("raasel_publish_seconds_count", after_one, old_one)
        assert grew("raasel_fanout_published_total", after_one, old_one)
        assert grew("raasel_fanout_received_total", after_two, old_two)
        assert total(after_two, "raasel_socket_connections") >= 1
        assert total(after_one, "raasel_socket_connections") >= 1
        for gauge in ("raasel_committer_queue_depth", "raasel_publish_queue_depth"):
            assert (gauge, frozenset()) in after_one  # values: tests/storage/test_database.py
        exposed = {name for name, _ in after_one} | {name for name, _ in after_two}

        # Redis gone: sends are still stored and acknowledged; their fan-out is dropped.
        dropped_before = total(after_one, "raasel_fanout_dropped_total")
        cluster.redis.kill()
        ack = await customer_socket.emit(
            "message:send", {"conversation_id": cid, "client_id": unique("m"), "text": "y"}
        )
        assert ack["ok"], ack
        assert (
            await until_moved(one, "raasel_fanout_dropped_total", dropped_before) > dropped_before
        )
    finally:
        await world_one.close()
        await world_two.close()

    for name in referenced_metrics():
        assert name in exposed, f"{name} is used by deploy/ but no node exposes it"
    for family in declared_families():
        assert any(n.startswith(family) for n in exposed), f"{family} is never exposed"
