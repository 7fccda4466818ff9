#!/usr/bin/env python3
"""Draws a preview of the ecoregistry Grafana dashboard from saved scrapes.

Grafana cannot be installed where this project is built, so the README's
picture of the dashboard is drawn by this script: it reads a directory of
/metrics scrapes of a real ecoregistryd (files named by the Unix time they
were taken, e.g. `while :; do curl -s http://127.0.0.1:9464/metrics >
scrapes/$(date +%s.%N).txt; sleep 2; done`), computes for each panel of
ecoregistry.json the quantity its query computes (rates and histogram
quantiles over a sliding window of WINDOW seconds, instead of Grafana's 1m),
and draws the panels in the dashboard's grid.

Usage: python3 preview.py SCRAPES_DIR OUT.png   (needs python3-matplotlib)
"""
import math
import os
import re
import sys
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

WINDOW = 10.0
LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def load(directory):
    """Returns [(t, {(name, frozenset(labels)): value})] sorted by time."""
    out = []
    for f in sorted(os.listdir(directory)):
        t = float(f.rsplit(".txt", 1)[0])
        series = {}
        for line in open(os.path.join(directory, f)):
            m = LINE.match(line)
            if not m:
                continue
            labels = frozenset(LABEL.findall(m.group(3) or ""))
            try:
                series[(m.group(1), labels)] = float(m.group(4))
            except ValueError:
                pass
        if series:
            out.append((t, series))
    return out


def rate(scrapes, name, where=lambda d: True, by=()):
    """sum by (by) (rate(name[WINDOW])) as {group: [(t, v)]}."""
    out = defaultdict(list)
    for i, (t, s) in enumerate(scrapes):
        j = max(k for k in range(i + 1) if t - scrapes[k][0] >= WINDOW) if t - scrapes[0][0] >= WINDOW else None
        if j is None:
            continue
        t0, s0 = scrapes[j]
        sums = defaultdict(float)
        for (n, labels), v in s.items():
            d = dict(labels)
            if n != name or not where(d):
                continue
            v0 = s0.get((n, labels), 0.0)
            sums[tuple(d.get(b, "") for b in by)] += max(v - v0, 0.0) / (t - t0)
        for g, v in sums.items():
            out[g].append((t, v))
    return out


def gauge(scrapes, name, where=lambda d: True, by=()):
    out = defaultdict(list)
    for t, s in scrapes:
        sums = defaultdict(float)
        for (n, labels), v in s.items():
            d = dict(labels)
            if n == name and where(d):
                sums[tuple(d.get(b, "") for b in by)] += v
        for g, v in sums.items():
            out[g].append((t, v))
    return out


def quantile(q, scrapes, name, where=lambda d: True, by=()):
    """histogram_quantile(q, sum by (le, by) (rate(name_bucket[WINDOW])))."""
    buckets = rate(scrapes, name + "_bucket", where, by=tuple(by) + ("le",))
    per = defaultdict(lambda: defaultdict(dict))
    for g, pts in buckets.items():
        le = float("inf") if g[-1] == "+Inf" else float(g[-1])
        for t, v in pts:
            per[g[:-1]][t][le] = v
    out = defaultdict(list)
    for g, times in per.items():
        for t, bs in sorted(times.items()):
            les = sorted(bs)
            total = bs[les[-1]]
            if total <= 0:
                continue
            rank, prev_le, prev_c = q * total, 0.0, 0.0
            for le in les:
                if bs[le] >= rank:
                    if math.isinf(le):
                        v = prev_le
                    else:
                        v = prev_le + (le - prev_le) * (rank - prev_c) / max(bs[le] - prev_c, 1e-12)
                    out[g].append((t, v))
                    break
                prev_le, prev_c = le, bs[le]
    return out


def ratio(a, b):
    out = defaultdict(list)
    for g, pts in a.items():
        den = dict(b.get(g, []))
        for t, v in pts:
            if den.get(t):
                out[g].append((t, v / den[t]))
    return out


def panels(s):
    trades = lambda outcome: (lambda d: d.get("outcome") == outcome)
    hit = ratio(rate(s, "ecoregistry_stream_cache_loads_total", by=("kind",)), rate(s, "ecoregistry_stream_cache_lookups_total", by=("kind",)))
    hit = {g: [(t, 1 - v) for t, v in pts] for g, pts in hit.items()}
    return [
        ("Trades settled per second, by exchange", "trades/s", rate(s, "ecoregistry_trades_total", trades("settled"), by=("exchange",))),
        ("Trades refused, replayed and failed per second", "trades/s", rate(s, "ecoregistry_trades_total", lambda d: d.get("outcome") != "settled", by=("outcome",))),
        ("RPC p99 latency by method", "ms", ms(quantile(0.99, s, "grpc_server_handling_seconds", lambda d: d.get("grpc_type") != "bidi_stream", by=("grpc_method",)))),
        ("RPC errors per second by method and code", "calls/s", rate(s, "grpc_server_handled_total", lambda d: d.get("grpc_code") != "OK", by=("grpc_method", "grpc_code"))),
        ("Store append latency (synced)", "ms", ms({("p50",): quantile(0.5, s, "ecoregistry_store_append_seconds", lambda d: d.get("result") == "ok")[()],
                                                 ("p99",): quantile(0.99, s, "ecoregistry_store_append_seconds", lambda d: d.get("result") == "ok")[()]})),
        ("WAL fsync latency", "ms", ms({("p50",): quantile(0.5, s, "ecoregistry_store_wal_fsync_seconds")[()],
                                      ("p99",): quantile(0.99, s, "ecoregistry_store_wal_fsync_seconds")[()]})),
        ("Events per append", "events", ratio(rate(s, "ecoregistry_store_append_events_sum"), rate(s, "ecoregistry_store_append_events_count"))),
        ("Log bytes written per second", "MiB/s", scale({("event store",): rate(s, "ecoregistry_store_wal_bytes_written_total")[()],
                                                       ("read models",): rate(s, "ecoregistry_read_store_wal_bytes_written_total")[()]}, 1 / 2**20)),
        ("Read model lag behind the head", "events (bytes on EventStoreDB)", gauge(s, "ecoregistry_projection_lag", by=("projection",))),
        ("Read model apply rate", "events/s", rate(s, "ecoregistry_projection_events_applied_total", by=("projection",))),
        ("Units available per right type", "units", gauge(s, "ecoregistry_units", lambda d: d.get("state") == "available", by=("right_type",))),
        ("Stream cache hit rate", "ratio", hit),
        ("Stream cache entries", "streams", gauge(s, "ecoregistry_stream_cache_entries", by=("kind",))),
        ("Process CPU", "cores", rate(s, "process_cpu_seconds_total")),
        ("Resident memory", "MiB", scale(gauge(s, "process_resident_memory_bytes"), 1 / 2**20)),
        ("Goroutines", "goroutines", gauge(s, "go_goroutines")),
    ]


def ms(series):
    return scale(series, 1000)


def scale(series, k):
    return {g: [(t, v * k) for t, v in pts] for g, pts in series.items()}


def main(directory, out):
    s = load(directory)
    t0 = s[0][0]
    ps = panels(s)
    cols = 4
    rows = math.ceil(len(ps) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(20, 3.6 * rows))
    fig.patch.set_facecolor("#111217")
    for ax, (title, unit, series) in zip(axes.flat, ps):
        ax.set_facecolor("#181b1f")
        # Series that stay at zero (every method's error codes, say) would
        # only crowd the legend, as Grafana's "hide zero" does.
        shown = [(g, pts) for g, pts in sorted(series.items()) if any(v for _, v in pts)][:8]
        for g, pts in shown:
            if pts:
                ax.plot([t - t0 for t, _ in pts], [v for _, v in pts], label=" ".join(g) or title.split(" ")[0], linewidth=1.5)
        ax.set_title(title, color="#ccccdc", fontsize=10, loc="left")
        ax.set_ylabel(unit, color="#8e8e9a", fontsize=8)
        ax.tick_params(colors="#8e8e9a", labelsize=7)
        ax.grid(color="#2c3036", linewidth=0.5)
        for sp in ax.spines.values():
            sp.set_color("#2c3036")
        if shown:
            ax.legend(fontsize=7, facecolor="#181b1f", labelcolor="#ccccdc", edgecolor="#2c3036", loc="upper left")
    for ax in axes.flat[len(ps):]:
        ax.axis("off")
    fig.suptitle("ecoregistry (preview drawn by deploy/grafana/preview.py from real scrapes; x: seconds since the first scrape)", color="#ccccdc")
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    fig.savefig(out, dpi=70, facecolor=fig.get_facecolor())


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
