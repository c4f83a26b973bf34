"""report.py: the schema 2 JSON contract, CSV rows, the table, byte-stable output."""

from __future__ import annotations

import csv
import dataclasses
import io
import json

import pytest

from kinemotion_cli import __version__, report
from kinemotion_cli.jumps import JUMP_TYPES
from tests.conftest import measured_from_series
from tests.landmark_series import series

REBOUNDS = [
    dict(jump="rebound", flight_time=0.45, contact_s=0.2),
    dict(jump="rebound", flight_time=0.35, contact_s=0.25),
]
TOP_KEYS = [
    "schema_version", "kmo_version", "video", "status", "jumps_found", "backend", "model",
    "model_kind", "running_mode", "device_requested", "device_used", "fps", "frames",
    "inference", "duration_s", "width", "height", "rotation_deg", "summary", "jumps", "subject",
    "quality",
]  # fmt: skip
JUMP_KEYS = [
    "index", "jump_type", "events", "event_uncertainty_s", "event_methods", "metrics",
    "metric_details", "scale", "quality",
]  # fmt: skip


@pytest.fixture(scope="module")
def one() -> object:
    t, lm, _ = series("cmj", 60, noise_px=0.5, seed=1)
    return measured_from_series(t, lm, 60)


@pytest.fixture(scope="module")
def three() -> object:
    t, lm, _ = series("drop_jump", 120, noise_px=0.5, jumps=REBOUNDS)
    return measured_from_series(t, lm, 120)


def _render(obj: dict) -> str:
    from rich.console import Console

    con = Console(record=True, width=200, file=io.StringIO())
    con.print(report.render_table(obj))
    return con.export_text()


# --------------------------------------------------------------------------- JSON


def test_schema_2_object_of_one_video(one) -> None:
    obj = report.to_dict(one)
    assert list(obj) == TOP_KEYS
    assert obj["schema_version"] == 2 == report.SCHEMA_VERSION
    assert obj["kmo_version"] == __version__ and obj["status"] == "ok"
    assert obj["jumps_found"] == len(obj["jumps"]) == 1
    assert (obj["frames"], obj["width"], obj["height"]) == (len(one.decode.times), 1080, 1920)
    assert obj["duration_s"] == round(float(one.decode.times[-1]), 6)
    n = len(one.decode.times)
    assert obj["inference"] == {
        "schedule": "sparse",
        "frames_inferred": n,
        "frames_filled": 0,
        "focus_crops": 0,  # a measurement made without a video (no second pass)
        "frame_size_px": [720, 1280],
    }
    (j,) = obj["jumps"]
    assert list(j) == JUMP_KEYS and j["index"] == 1 and j["jump_type"] == "cmj"
    a = one.analysis.jumps[0]
    assert list(j["events"]) == list(a.events) == list(j["event_uncertainty_s"])
    assert list(j["metrics"]) == list(a.metrics) == list(j["metric_details"])
    assert j["metrics"]["flight_time_s"] == round(a.metrics["flight_time_s"].value, 6)
    d = j["metric_details"]["jump_height_m"]
    assert d["unit"] == "m" and d["method"].startswith("flight time") and d["uncertainty"] > 0
    assert j["scale"]["method"] == "scale from flight parabola (g)"
    assert j["quality"]["verdict"] == "ok" and j["quality"]["frames_in_flight"] == 30
    look = {"tiles_found": 0, "second_look_frames": 0, "second_look_found": 0}
    look["closer_look_crop_px"] = None  # measured on the whole frame
    assert obj["subject"] == {**one.track.subject(), **look}
    q = obj["quality"]
    assert q["verdict"] == "ok" and q["camera"]["status"] == "static"
    assert q["camera"]["compensated"] is False and q["damaged_frames"] == []
    assert q["measured_fps"] == pytest.approx(60.0)
    assert "timing" not in obj and "backend_settings" not in obj and "backend_choice" not in obj


def test_every_jump_of_a_clip_with_its_own_type(three) -> None:
    obj = report.to_dict(three)
    assert obj["jumps_found"] == 3
    assert [j["jump_type"] for j in obj["jumps"]] == ["drop_jump", "rebound", "rebound"]
    assert [j["index"] for j in obj["jumps"]] == [1, 2, 3]
    assert "box_leave_s" in obj["jumps"][0]["events"]
    assert "box_leave_s" not in obj["jumps"][1]["events"]
    assert obj["summary"]["types"] == {"drop_jump": 1, "rebound": 2}


def test_options_timing_backend_settings_choice_and_warnings(one) -> None:
    info = {
        **one.run.info,
        "mode": "balanced",
        "threads": 2,
        "batch": 4,
        "missing_landmarks": ["left_heel"],
        "warnings": ["cuda was requested but inference runs on the CPU"],
    }
    run = dataclasses.replace(one.run, info=info, choice="mediapipe: CPU only")
    obj = report.to_dict(dataclasses.replace(one, run=run), timings=True)
    assert obj["backend_settings"] == {"mode": "balanced", "threads": 2, "batch": 4}
    assert obj["backend_choice"] == "mediapipe: CPU only"
    assert obj["missing_landmarks"] == ["left_heel"]
    assert obj["quality"]["warnings"][0].startswith("cuda was requested")
    assert set(obj["timing"]) >= {"total_s", "inference_s", "analysis_s", "model_load_s"}
    without = report.to_dict(one)
    assert "timing" not in without and list(obj)[: len(TOP_KEYS)] == TOP_KEYS


def test_json_is_one_compact_line_and_byte_stable(one) -> None:
    t, lm, _ = series("cmj", 60, noise_px=0.5, seed=1)
    again = measured_from_series(t, lm, 60)  # an independent run on the same input
    a, b = report.to_json(report.to_dict(one)), report.to_json(report.to_dict(again))
    assert a == b
    assert "\n" not in a and '": ' not in a and '", "' not in a  # no spaces between items
    assert json.loads(a) == report.to_dict(one)


def test_numbers_are_rounded_and_nan_is_null() -> None:
    assert report._r(0.1234567891) == 0.123457
    assert report._r(-0.0000001) == 0.0  # no "-0.0" in the output
    assert report._r(float("nan")) is None and report._r(None) is None
    with pytest.raises(ValueError):
        report.to_json({"x": float("nan")})  # a NaN that slipped through is refused


def test_error_object() -> None:
    obj = report.error_dict("a.mp4", "no such file", 2)
    assert obj == {
        "schema_version": 2,
        "kmo_version": __version__,
        "video": "a.mp4",
        "status": "error",
        "error": "no such file",
        "exit_code": 2,
    }


# --------------------------------------------------------------------------- summary


def _jump(index: int, jump_type: str, height: float | None, ft: float | None, **more) -> dict:
    return {
        "index": index,
        "jump_type": jump_type,
        "metrics": {"jump_height_m": height, "flight_time_s": ft, **more},
    }


def test_summary_mean_and_best() -> None:
    jumps = [
        _jump(1, "drop_jump", 0.30, 0.50, ground_contact_time_s=0.25),
        _jump(2, "rebound", 0.35, 0.54, ground_contact_time_s=0.20),
        _jump(3, "rebound", None, None, ground_contact_time_s=None),  # withheld (damaged)
    ]
    s = report.summary(jumps)
    assert s["jumps"] == 3 and s["types"] == {"drop_jump": 1, "rebound": 2}
    assert s["mean"]["jump_height_m"] == pytest.approx(0.325)  # missing values left out
    assert s["mean"]["flight_time_s"] == pytest.approx(0.52)
    assert s["mean"]["ground_contact_time_s"] == pytest.approx(0.225)
    assert "rsi_modified" not in s["mean"]  # no jump has it
    assert s["best"] == {
        "index": 2,
        "jump_type": "rebound",
        "jump_height_m": 0.35,
        "flight_time_s": 0.54,
    }
    assert report.summary([_jump(1, "cmj", None, None)])["best"] is None


def test_summary_of_a_measured_clip(three) -> None:
    obj = report.to_dict(three)
    heights = [j["metrics"]["jump_height_m"] for j in obj["jumps"]]
    assert obj["summary"]["mean"]["jump_height_m"] == pytest.approx(sum(heights) / 3, abs=1e-6)
    best = max(obj["jumps"], key=lambda j: j["metrics"]["jump_height_m"])
    assert obj["summary"]["best"]["index"] == best["index"] == 1  # the 0.5 s flight


# --------------------------------------------------------------------------- CSV


def _rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(report.csv_header() + text)))


def test_csv_one_row_per_jump_with_its_index(three) -> None:
    obj = report.to_dict(three)
    assert report.csv_header().strip().split(",") == list(report.CSV_COLUMNS)
    rows = _rows(report.csv_rows(obj))
    assert [r["jump_index"] for r in rows] == ["1", "2", "3"]
    assert [r["jump_type"] for r in rows] == ["drop_jump", "rebound", "rebound"]
    for r, j in zip(rows, obj["jumps"]):
        assert r["video"] == "synthetic.mp4" and r["status"] == "ok" and r["jumps_found"] == "3"
        assert float(r["flight_time_s"]) == j["metrics"]["flight_time_s"]
        assert float(r["takeoff_s"]) == j["events"]["takeoff_s"]
        assert float(r["ground_contact_time_s"]) == j["metrics"]["ground_contact_time_s"]
        assert r["countermovement_depth_m"] == "" and r["error"] == ""
        assert r["verdict"] == j["quality"]["verdict"]


def test_csv_error_and_skipped_rows_are_one_line() -> None:
    err = report.error_dict("bad.mp4", 'no such file, "quoted"', 2)
    (row,) = _rows(report.csv_rows(err))
    assert row["status"] == "error" and row["error"] == 'no such file, "quoted"'
    assert row["jump_index"] == row["flight_time_s"] == row["jump_type"] == ""
    (row,) = _rows(report.csv_rows({"video": "v.mp4", "status": "skipped"}))
    assert row["status"] == "skipped" and row["jump_index"] == ""


# --------------------------------------------------------------------------- table


def test_table_of_one_jump_uses_human_labels(one) -> None:
    text = _render(report.to_dict(one))
    for label in ("Takeoff", "Landing", "Movement start", "Lowest point", "Flight time"):
        assert label in text, label
    for label in ("Jump height", "Countermovement depth", "RSI modified", "Quality: ok"):
        assert label in text, label
    assert "Countermovement jump" in text and " ms" in text and " cm" in text
    assert "flight time: h = g t^2 / 8" in text  # methods are shown
    for key in ("flight_time_s", "takeoff_s", "jump_height_m", "countermovement_depth_m"):
        assert key not in text, key  # JSON keys never reach the table


def test_table_of_several_jumps_has_mean_and_best_rows(three) -> None:
    obj = report.to_dict(three)
    text = _render(obj)
    assert "3 jump(s)" in text
    for jt in ("Drop jump", "Rebound jump"):
        assert jt in text
    lines = text.splitlines()
    assert any(line.strip().startswith("mean") or " mean " in line for line in lines)
    assert any("#1 (highest)" in line for line in lines)
    assert "Ground contact time" in text and "RSI (flight / contact)" in text
    assert "ground_contact_time_s" not in text


def test_table_lists_quality_reasons(one) -> None:
    obj = report.to_dict(one)
    obj["quality"] = {**obj["quality"], "verdict": "low confidence", "reasons": ["too blurry"]}
    text = _render(obj)
    assert "Quality: low confidence" in text and "! too blurry" in text


def test_labels_cover_every_declared_event_and_metric() -> None:
    ev, me = report.labels()
    for jt in JUMP_TYPES.values():
        assert {e.key for e in jt.events} <= set(ev)
        assert {m.key for m in jt.metrics} <= set(me)
    assert ev["takeoff_s"] == "Takeoff" and me["flight_time_s"] == "Flight time"


def test_fmt_units_people_read() -> None:
    assert report.fmt(0.5012, "s", 0.0011) == "501.2 ± 1.1 ms"
    assert report.fmt(0.3074, "m") == "30.7 cm"
    assert report.fmt(2.3456, "m/s") == "2.35 m/s"
    assert report.fmt(1.23456, "") == "1.23"
    assert report.fmt(None, "s") == "–"
