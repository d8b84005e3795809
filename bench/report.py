#!/usr/bin/env python3
"""Markdown report of a bench/smtp.sh run: rates with ratios, latency, memory, soak."""

import csv
import statistics
import sys
from collections import defaultdict
from pathlib import Path

work = Path(sys.argv[1])


def rates():
    print("### Accept rate (smtp-source, connection reused, median of runs)\n")
    print("| size | sessions | smtp-sink msg/s | Postfix (durable) msg/s | nonono (durable) msg/s "
          "| nonono / Postfix | nonono / smtp-sink | machine CPU ms/msg nonono | Postfix |")
    print("|---|---|---|---|---|---|---|---|---|")
    for path in sorted(work.glob("rates-*/results.csv"), key=lambda p: int(p.parent.name[6:])):
        size = int(path.parent.name[6:])
        runs = defaultdict(list)
        cpu = defaultdict(list)
        for row in csv.DictReader(path.open()):
            if row["rc"] != "0" or row["target"].startswith("fsync"):
                continue
            key = (row["target"], int(row["sessions"]))
            rate = float(row["msgs_per_s"])
            runs[key].append(rate)
            if rate > 0:
                cpu[key].append(float(row["cpu_busy_pct"]) / 100 * 2 * 1000 / rate)
        sessions = sorted({s for _, s in runs})
        for s in sessions:
            med = {t: statistics.median(runs[(t, s)]) if runs[(t, s)] else None
                   for t in ("smtp-sink", "postfix-discard", "nonono")}
            c = {t: statistics.median(cpu[(t, s)]) if cpu[(t, s)] else None
                 for t in ("postfix-discard", "nonono")}
            fmt = lambda v: "–" if v is None else f"{v:.0f}"
            ratio = lambda a, b: "–" if not a or not b else f"{a / b:.2f}"
            cpu_fmt = lambda v: "–" if v is None else f"{v:.2f}"
            print(f"| {size // 1024} KB | {s} | {fmt(med['smtp-sink'])} | {fmt(med['postfix-discard'])} "
                  f"| **{fmt(med['nonono'])}** | {ratio(med['nonono'], med['postfix-discard'])} "
                  f"| {ratio(med['nonono'], med['smtp-sink'])} | {cpu_fmt(c['nonono'])} "
                  f"| {cpu_fmt(c['postfix-discard'])} |")
    print()


def latency():
    path = work / "latency.csv"
    if not path.exists():
        return
    print("### Accept latency (our load client: `.` to `250`)\n")
    print("| target | size | sessions | msg/s | p50 ms | p99 ms | max ms | errors |")
    print("|---|---|---|---|---|---|---|---|")
    for row in csv.DictReader(path.open()):
        print(f"| {row['target']} | {int(row['bytes']) // 1024} KB | {row['sessions']} | {row['rate']} "
              f"| {row['p50_ms']} | {row['p99_ms']} | {row['max_ms']} | {row['errors']} |")
    print()


def memory_and_soak():
    rss = (work / "rss_kb").read_text().strip() if (work / "rss_kb").exists() else ""
    if rss:
        print(f"nonono peak resident memory over the whole run: **{int(rss) / 1024:.0f} MB**\n")
    for name, title in (("flood", "full load"), ("steady", "steady traffic")):
        soak = work / f"soak-{name}.csv"
        if not soak.exists():
            continue
        print(f"### Soak, {title}: 8 sessions, 2 KB\n")
        text = work / f"soak-{name}.txt"
        if text.exists():
            print(f"`{text.read_text().strip()}`\n")
        print("| t (s) | accepted | pipeline backlog | pipeline lag s | outbox pending | RSS MB |")
        print("|---|---|---|---|---|---|")
        for row in csv.DictReader(soak.open()):
            rss = f"{int(row['rss_kb']) / 1024:.0f}" if row.get("rss_kb") else "–"
            print(f"| {row['t_s']} | {row['accepted']} | {row['pipeline_pending']} "
                  f"| {row['pipeline_lag_s']} | {row['outbox_pending']} | {rss} |")
        print()

rates()
latency()
memory_and_soak()
