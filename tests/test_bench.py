"""`kmo bench` (benchreport.py, bench.py): anomaly notes, best configuration, report structure,
rows that cannot run, the looped bench videos."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kinemotion_cli import benchreport as br
from kinemotion_cli.bench import first_frames, loop_video
from kinemotion_cli.video import decode, probe
from tests.conftest import ROOT, SAMPLES


def row(label: str, batch: int, length: str, fps: float | None, mb: float = 300.0, **kw) -> dict:
    r = {
        "label": label,
        "backend": label.split(":")[0],
        "device": "auto",
        "device_used": "cpu",
        "batch": batch,
        "length": length,
        "frames": 60,
        "status": "ok",
        "reason": None,
        "model": "m",
        "load_s": 0.1,
        "seconds": 60 / fps if fps else None,
        "ms_per_frame": 1e3 / fps if fps else None,
        "fps": fps,
        "peak_mb": mb,
        "fake_models": False,
    }
    r.update(kw)
    return r


def test_notes_flag_throughput_falling_with_batch_size_only() -> None:
    rows = [
        row("rtmpose:balanced", 1, "short", 40.0),
        row("rtmpose:balanced", 4, "short", 30.0),
        row("rtmpose:balanced", 8, "short", 31.0),  # rising again: no note for 4 -> 8
        row("rtmpose:lightweight", 1, "short", 40.0),
        row("rtmpose:lightweight", 4, "short", 50.0),
    ]
    notes = br.anomalies(rows)
    falls = [n for n in notes if "falls as batch size grows" in n]
    assert len(falls) == 1
    assert "rtmpose:balanced" in falls[0] and "batch 1" in falls[0] and "batch 4" in falls[0]
    assert "-25 %" in falls[0]


def test_notes_length_memory_fallback_and_failures() -> None:
    rows = [
        row("mediapipe:full", 1, "short", 30.0, mb=300),
        row("mediapipe:full", 1, "long", 20.0, mb=500),
        row("rtmpose:balanced", 1, "short", 30.0, device="cuda", device_used="cpu"),
        row(
            "mediapipe:lite",
            1,
            "short",
            None,
            device="cuda",
            status="unavailable",
            reason="the mediapipe backend runs on the CPU only",
        ),
    ]
    notes = br.anomalies(rows, {"load_average_start": [5.0], "usable_cpus": 2})
    text = "\n".join(notes)
    assert "slower on the long video (20.0 vs 30.0 fps" in text
    assert "peak memory grows with video length (300 -> 500 MiB)" in text
    assert "rtmpose:balanced: cuda requested but it ran on cpu" in text
    assert "mediapipe:lite @cuda: unavailable: the mediapipe backend runs on the CPU only" in text
    assert "busy" in text
    quiet = br.anomalies([row("a", 1, "short", 30.0), row("a", 1, "long", 29.0)])
    assert quiet == []


def test_best_configuration_per_length() -> None:
    rows = [
        row("a", 1, "short", 30.0, mb=400),
        row("b", 1, "short", 45.0, mb=500),
        row("c", 1, "short", None, status="failed", reason="x"),
        row("a", 1, "long", 28.0, mb=410),
    ]
    b = br.best(rows)
    assert b["short"]["fastest"] == {"config": "b @auto batch 1", "fps": 45.0}
    assert b["short"]["least_memory"]["config"].startswith("a ")
    assert b["long"]["fastest"]["fps"] == 28.0


def test_plan_batches_only_for_batching_backends() -> None:
    sweep = br.Sweep(
        backends=["mediapipe:lite", "rtmpose:lightweight"], devices=["cpu"], batches=[4, 1]
    )
    cells = br.plan(sweep, {"short": "s.mp4", "long": "l.mp4"})
    got = [(c.label, c.batch, c.length, c.video) for c in cells]
    assert got == [
        ("mediapipe:lite", 1, "short", "s.mp4"),
        ("mediapipe:lite", 1, "long", "l.mp4"),
        ("rtmpose:lightweight", 1, "short", "s.mp4"),
        ("rtmpose:lightweight", 4, "short", "s.mp4"),
        ("rtmpose:lightweight", 1, "long", "l.mp4"),
        ("rtmpose:lightweight", 4, "long", "l.mp4"),
    ]


def test_markdown_report_structure() -> None:
    rows = [
        row("mediapipe:lite", 1, "short", 30.0),
        row("rtmpose:balanced", 1, "short", None, status="skipped", reason="no models"),
    ]
    doc = {
        "schema": br.SCHEMA,
        "metadata": {**br.metadata(), "wall_s": 1.0, "load_average_end": None},
        "sweep": vars(br.quick_sweep()),
        "videos": {"short": {"frames": 60, "decode_fps": 200.0}},
        "results": rows,
    }
    doc["best"], doc["notes"] = br.best(rows), br.anomalies(rows)
    md = br.to_markdown(doc)
    for section in (
        "## Run metadata",
        "## Sweep",
        "## Results",
        "## Best configurations",
        "## Notes",
    ):
        assert section in md
    for key in (
        "| date (UTC) |",
        "| kmo |",
        "| CPU |",
        "| cores |",
        "| Python |",
        "| GPU |",
        "| onnxruntime providers |",
        "| threads |",
        "| git commit |",
    ):
        assert key in md, key
    table = [
        ln
        for ln in md.splitlines()
        if ln.startswith("| mediapipe:lite |") or ln.startswith("| rtmpose:balanced |")
    ]
    assert len(table) == 2 and all(ln.count("|") == 14 for ln in table)  # incl. model kind
    assert "skipped: no models" in table[1]
    assert "fastest mediapipe:lite @auto batch 1 (30.0 fps)" in md
    json.dumps(doc)  # JSON-ready


@pytest.mark.e2e
def test_tiny_sweep_in_subprocesses(tmp_path) -> None:
    sweep = br.Sweep(
        backends=["rtmpose:lightweight", "mediapipe:lite@cuda"],
        devices=["auto"],
        batches=[1, 2],
        lengths=["short"],
        video=str(SAMPLES / "cmj_60fps.mp4"),
        short_frames=12,
        long_loops=2,
    )
    doc = br.run_sweep(sweep)
    res = doc["results"]
    assert [(r["label"], r["batch"], r["status"]) for r in res] == [
        ("rtmpose:lightweight", 1, "ok"),
        ("rtmpose:lightweight", 2, "ok"),
        ("mediapipe:lite", 1, "unavailable"),
    ]
    assert all(r["frames"] == 12 and r["fps"] > 0 and r["peak_mb"] > 50 for r in res[:2])
    assert res[0]["standins_written"] and res[0]["model_kind"] == "stand-in"
    assert "cuda" in res[2]["reason"].lower() and res[2]["model_kind"] is None
    assert doc["videos"]["short"]["frames"] == 12
    br.write_report(doc, tmp_path / "r.md", tmp_path / "r.json")
    assert json.loads((tmp_path / "r.json").read_text())["schema"] == br.SCHEMA == "kmo.bench/2"
    assert "mediapipe:lite @cuda: unavailable" in (tmp_path / "r.md").read_text()


def test_committed_quick_report_has_metadata() -> None:
    reports = sorted(Path(ROOT / "docs" / "benchmarks").glob("*.md"))
    assert reports, "docs/benchmarks/ holds the committed kmo bench --quick report"
    md = reports[-1].read_text()
    assert "## Run metadata" in md and "| git commit |" in md and "## Notes" in md
    assert reports[-1].with_suffix(".json").exists()


def test_loop_video_repeats_the_first_frames_with_continuous_timestamps(tmp_path) -> None:
    short, long = tmp_path / "short.mp4", tmp_path / "long.mp4"
    loop_video(str(SAMPLES / "cmj_60fps.mp4"), str(short), 1, frames=12)
    loop_video(str(short), str(long), 3)
    stream = decode(str(long), probe(str(long)))
    images = [f.image for f in stream]
    r = stream.report
    assert r.frames == 36 and r.dropped_frames == 0 and r.duplicate_frames == 0
    assert r.measured_fps == pytest.approx(60.0)
    src = first_frames(str(SAMPLES / "cmj_60fps.mp4"), 12)
    for k in (0, 11, 12, 35):  # each loop starts again at the first frame
        diff = abs(images[k].astype(int) - src[k % 12][0].astype(int)).mean()
        assert diff < 3, k
