"""The verdict of one measurement and the side-by-side tables bench/run.py prints."""

from __future__ import annotations

import math
from typing import Any

SENT_SHARE = 0.95  # below this share of the offered rate the generator did not offer it
LOADGEN_BUSY = 90.0  # % of a core per generator process: its own latency shows in p99
OTHERS_BUSY = 25.0  # % of a core used by other people's processes: the figures are noise


def verdict(result: dict[str, Any], target_p99_ms: float) -> str:
    """``pass``, or the first reason it does not (server faults before generator limits)."""
    if result.get("connect_failed"):
        return "FAIL connect"
    if result.get("lost"):
        return "FAIL lost"
    if result.get("disconnects"):
        return "FAIL disconnect"
    if result.get("skipped"):
        return "FAIL in-flight"  # a client had 64 sends unanswered and skipped its turn
    if result["sent_per_s"] < SENT_SHARE * result["offered_per_s"]:
        return "LG-BOUND"
    p99 = result["delivery_p99_ms"]
    if math.isnan(p99) or p99 >= target_p99_ms:
        return "FAIL p99"
    return "pass"


def is_machine_busy(result: dict[str, Any]) -> bool:
    return float(result["cpu_percent"]["others"]) >= OTHERS_BUSY


def is_generator_busy(result: dict[str, Any], procs: int) -> bool:
    return float(result["cpu_percent"]["loadgens"]) >= LOADGEN_BUSY * procs


def _ms(value: float) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.1f}"


def _load(r: dict[str, Any]) -> str:
    load = r.get("load_1m")
    return f"{load[0]:.1f}-{load[1]:.1f}" if load else "-"


def print_pairs(results: list[dict[str, Any]], header: bool = True) -> None:
    columns = (
        f"{'target':18} {'run':>3} {'clients':>7} {'offered/s':>9} {'sent/s':>7} "
        f"{'deliv/s':>7} {'dlv p50':>7} {'dlv p99':>8} {'ack p99':>8} {'lost':>6} "
        f"{'CPU us/msg':>10} {'srv CPU%':>8} {'lg CPU%':>7} {'other%':>6} {'RSS MB':>6} "
        f"{'load':>9}  verdict"
    )
    if header:
        print(columns)
    for r in results:
        delivered = r["delivered_in_window"]
        cost = f"{r['server_cpu_us_per_msg']:.0f}" if delivered else "-"
        print(
            f"{r['target']:18} {r['run']:>3} {r['connected']:>7} {r['offered_per_s']:>9.0f} "
            f"{r['sent_per_s']:>7.0f} {r['delivered_per_s']:>7.0f} "
            f"{_ms(r['delivery_p50_ms']):>7} {_ms(r['delivery_p99_ms']):>8} "
            f"{_ms(r['ack_p99_ms']):>8} {r.get('lost', r['errors']):>6} {cost:>10} "
            f"{r['cpu_percent']['server']:>8.0f} {r['cpu_percent']['loadgens']:>7.0f} "
            f"{r['cpu_percent']['others']:>6.0f} {r['rss_mb']['server_max']:>6.0f} "
            f"{_load(r):>9}  {r['verdict']}",
            flush=True,
        )


def print_sweeps(sweeps: list[dict[str, Any]], target_p99_ms: float) -> None:
    print(
        f"\nHighest offered rate that passes (delivery p99 < {target_p99_ms:.0f} ms, nothing lost):"
    )
    print(
        f"{'target':18} {'clients':>7} {'passes at':>9} {'fails at':>9} "
        f"{'deliv/s':>7} {'dlv p99':>8} {'CPU us/msg':>10} {'RSS MB':>6} {'trials':>6} "
        f"{'time s':>6} {'load':>9}  note"
    )
    for s in sweeps:
        best = s.get("best")
        passes = f"{s['passes_at']:.0f}" if s["passes_at"] else "none"
        fails = f"{s['fails_at']:.0f}" if s["fails_at"] else "-"
        deliv = f"{best['delivered_per_s']:.0f}" if best else "-"
        p99 = _ms(best["delivery_p99_ms"]) if best else "-"
        cost = f"{best['server_cpu_us_per_msg']:.0f}" if best else "-"
        rss = f"{best['rss_mb']['server_max']:.0f}" if best else "-"
        print(
            f"{s['target']:18} {s['clients']:>7} {passes:>9} {fails:>9} {deliv:>7} {p99:>8} "
            f"{cost:>10} {rss:>6} {len(s['trials']):>6} {s['elapsed_s']:>6.0f} "
            f"{_load(s):>9}  {s['note']}"
        )


def print_idle(idle_results: list[dict[str, Any]]) -> None:
    print(
        f"\n{'idle target':18} {'run':>3} {'connected':>11} {'connect s':>9} "
        f"{'RSS before':>10} {'RSS held':>8} {'KB/conn':>7} {'srv CPU%':>8} {'load':>5}"
    )
    for i in idle_results:
        print(
            f"{i['target']:18} {i['run']:>3} {i['connected']:>5}/{i['idle']:<5} "
            f"{i['connect_s']:>9.0f} {i['server_rss_mb_baseline']:>10.0f} "
            f"{i['server_rss_mb']:>8.0f} {i['server_rss_kb_per_connection']:>7.1f} "
            f"{i['server_cpu_percent_idle']:>8.1f} {i.get('load_1m', float('nan')):>5.1f}"
        )
