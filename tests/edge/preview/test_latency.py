"""Clock sync and latency to the glass: pongs stamped by the server's clock, drawn reports turned into
per-stage latency (p50/p95/p99 in the state message), /metrics in the Prometheus text format."""

from __future__ import annotations

import math
import re
import time

import httpx
import pytest

from edge.preview.latency import BUCKETS_S, STAGES, LatencyStages
from edge.preview.metrics import Family, histogram_family, render

from .fakes import FUSED_AFTER_NS, STYLED_AFTER_NS, TOKEN, connect, is_text, next_message, publish_until

AUTH = {"Authorization": f"Bearer {TOKEN}"}

# The text format, line by line (https://prometheus.io/docs/instrumenting/exposition_formats/).
_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_SAMPLE = re.compile(rf'^({_NAME})(\{{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*)\}})? (\S+)$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text: str):
    """{family: {"type", "help", "samples": [(name, labels, value)]}}; AssertionError on any line out of format."""
    families, current = {}, None
    assert text.endswith("\n")
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name, _, help_text = line[7:].partition(" ")
            assert name not in families, f"family {name} twice"
            current = families[name] = {"help": help_text, "type": None, "samples": []}
        elif line.startswith("# TYPE "):
            name, _, kind = line[7:].partition(" ")
            assert current is families[name] and kind in ("counter", "gauge", "histogram", "summary", "untyped")
            current["type"] = kind
        else:
            match = _SAMPLE.match(line)
            assert match, f"not a sample line: {line!r}"
            name, labels, value = match.group(1), dict(_LABEL.findall(match.group(3) or "")), match.group(4)
            base = re.sub(r"_(bucket|sum|count)$", "", name) if current["type"] == "histogram" else name
            assert families.get(base) is current, f"{name} outside its family"
            current["samples"].append((name, labels, float(value)))
    return families


def test_a_ping_gets_a_pong_stamped_with_the_servers_clock(make_preview):
    preview = make_preview()
    with connect(preview) as ws:
        hello = next_message(ws, is_text("hello"))
        before = time.time_ns()
        ws.send('{"type": "ping", "id": 7, "client_ms": 123456.789}')
        pong = next_message(ws, is_text("pong"))
        after = time.time_ns()
    assert pong["id"] == 7 and pong["client_ms"] == 123456.789 and before <= pong["server_ns"] <= after
    assert abs(hello["server_ns"] - before) < 10 * 10**9


def test_drawn_reports_become_stage_latencies_in_the_state_and_the_metrics(make_preview, stage):
    stage.open_node().open_engines()
    preview = make_preview()
    with connect(preview) as ws:
        drawn = []
        (header, _), index = publish_until(stage, ws, lambda m: "fused" in m[0]["stamps_ns"])
        for _ in range(5):
            stamps = header["stamps_ns"]
            drawn_ns = stamps["sent"] + 7_000_000
            ws.send(f'{{"type": "drawn", "seq": {header["seq"]}, "drawn_ns": {drawn_ns}}}')
            drawn.append((stamps, drawn_ns))
            (header, _), index = publish_until(stage, ws, lambda m: "fused" in m[0]["stamps_ns"], first=index)
        ws.send(f'{{"type": "drawn", "seq": {header["seq"]}, "drawn_ns": {header["stamps_ns"]["sent"] - 10**9}}}')
        assert "is the page's clock offset applied?" in next_message(ws, is_text("error"))["error"]
        state = next_message(ws, lambda m: is_text("state")(m) and m["latency"]["sent_drawn"]["count"] == 5, 3.0)
    latency = state["latency"]
    assert set(latency) == set(STAGES)
    assert latency["sent_drawn"]["p50_ms"] == latency["sent_drawn"]["p99_ms"] == 7.0
    assert latency["fused_engines"]["p50_ms"] == (STYLED_AFTER_NS - FUSED_AFTER_NS) / 1e6
    assert latency["exposure_fused"]["p95_ms"] == FUSED_AFTER_NS / 1e6
    expected = sorted((d - s["exposure"]) / 1e6 for s, d in drawn)
    assert latency["exposure_drawn"]["count"] == 5 and latency["exposure_drawn"]["p99_ms"] == pytest.approx(expected[-1])

    families = parse_metrics(httpx.get(f"{preview.url}/metrics", headers=AUTH, timeout=5).text)
    histogram = families["onset_preview_latency_seconds"]
    assert histogram["type"] == "histogram"
    buckets = [(float(lb["le"]), v) for n, lb, v in histogram["samples"]
               if n.endswith("_bucket") and lb["stage"] == "sent_drawn"]
    assert [b for b, _ in buckets] == [*BUCKETS_S, math.inf]
    assert [v for _, v in buckets] == [0, 0, 0, 5, *[5] * (len(BUCKETS_S) - 3)]  # 7 ms: first in the 10 ms bucket
    counts = {lb["stage"]: v for n, lb, v in histogram["samples"] if n.endswith("_count")}
    assert counts["sent_drawn"] == 5 and counts["exposure_fused"] >= 6
    assert families["onset_preview_frames_built_total"]["samples"][0][2] >= 6
    encodes = {lb["part"]: v for _, lb, v in families["onset_preview_part_encodes_total"]["samples"]}
    assert encodes["styled"] >= 6 and encodes["depth"] == 0
    status = {(lb["source"], lb["status"]): v for _, lb, v in families["onset_preview_source_status"]["samples"]}
    assert status[("fused", "live")] == 1 and status[("fused", "waiting")] == 0 and status[("node", "waiting")] == 1


def test_histograms_are_cumulative_and_percentiles_nearest_rank():
    stages = LatencyStages()
    for ms in (1, 2, 3, 4, 100):
        stages.observe("sent_drawn", ms / 1e3)
    stages.observe("sent_drawn", BUCKETS_S[3])  # exactly on a bound: counted in that bucket (le)
    summary = stages.summary()["sent_drawn"]
    assert summary == {"p50_ms": 3.0, "p95_ms": 100.0, "p99_ms": 100.0, "count": 6}
    assert stages.summary()["fused_drawn"] == {"p50_ms": None, "p95_ms": None, "p99_ms": None, "count": 0}
    histogram = {h.stage: h for h in stages.histograms()}["sent_drawn"]
    assert dict(histogram.buckets)[0.001] == 1 and dict(histogram.buckets)[0.005] == 4
    assert dict(histogram.buckets)[0.01] == 5 and histogram.count == 6
    counts = [n for _, n in histogram.buckets]
    assert counts == sorted(counts) and histogram.sum_s == pytest.approx(0.12)
    with pytest.raises(KeyError):
        stages.observe("nowhere", 1.0)


def test_the_text_format_escapes_labels_and_writes_numbers_prometheus_reads():
    text = render([Family("x_total", "counter", 'help with \\ and\nnewline').add(3, who='a "b"\\c\nd'),
                   Family("y", "gauge", "g").add(0.25).add(float("nan"), k="v"),
                   histogram_family("z_seconds", "h", LatencyStages().histograms()[:1])])
    families = parse_metrics(text)
    assert families["x_total"]["samples"] == [("x_total", {"who": 'a \\"b\\"\\\\c\\nd'}, 3.0)]
    assert math.isnan(families["y"]["samples"][1][2]) and families["y"]["samples"][0][2] == 0.25
    assert families["z_seconds"]["samples"][-1] == ("z_seconds_count", {"stage": "exposure_fused"}, 0.0)


def test_prometheus_own_parser_reads_the_metrics(make_preview):
    parser = pytest.importorskip("prometheus_client.parser")
    preview = make_preview()
    text = httpx.get(f"{preview.url}/metrics", headers=AUTH, timeout=5).text
    names = {family.name: family.type for family in parser.text_string_to_metric_families(text)}
    assert names["onset_preview_latency_seconds"] == "histogram" and names["onset_preview_viewers"] == "gauge"
    assert names["onset_preview_frames_sent"] == "counter"  # the client library drops _total from counter names
