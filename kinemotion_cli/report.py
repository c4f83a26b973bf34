"""Output only: the JSON contract, CSV rows and the rich table of a measured video.

JSON contract (schema_version 2, README "JSON contract"): one object per video with a
``jumps`` list (every jump in the clip, each with its own type, events, metrics,
uncertainties, scale and quality) and a ``summary``. Numbers are rounded to fixed decimals
so the same input gives byte-identical output; timing fields appear only with
``--timings``. Nothing here computes a measurement: labels come from the jump types'
declarations, verdicts from :mod:`kinemotion_cli.quality`.
"""

from __future__ import annotations

import csv
import io
import json
import math

from kinemotion_cli import __version__
from kinemotion_cli.jumps import JUMP_TYPES, Jump
from kinemotion_cli.jumps.common import Measure
from kinemotion_cli.jumps.types import COMMON_EVENTS, COMMON_METRICS
from kinemotion_cli.pipeline import Measured
from kinemotion_cli.quality import JumpQuality, Quality

SCHEMA_VERSION = 2
BACKEND_SETTINGS = ("mode", "threads", "det_every", "batch", "runtime")  # runtime: mediapipe
SUMMARY_METRICS = (
    "flight_time_s",
    "jump_height_m",
    "ground_contact_time_s",
    "rsi_flight_over_contact",
    "rsi_modified",
)
CSV_COLUMNS = (
    "video",
    "status",
    "jump_index",
    "jumps_found",
    "jump_type",
    "backend",
    "fps",
    "frames",
    "takeoff_s",
    "landing_s",
    "flight_time_s",
    "jump_height_m",
    "ground_contact_time_s",
    "rsi_height_over_contact",
    "rsi_flight_over_contact",
    "countermovement_depth_m",
    "time_to_takeoff_s",
    "rsi_modified",
    "verdict",
    "error",
)


def _r(x: float | None, nd: int = 6) -> float | None:
    if x is None or not math.isfinite(float(x)):
        return None
    v = round(float(x), nd)
    return 0.0 if v == 0 else v


def labels() -> tuple[dict[str, str], dict[str, str]]:
    """Human labels of every event and metric, from the jump types' declarations."""
    events = {e.key: e.label for e in COMMON_EVENTS}
    metrics = {m.key: m.label for m in COMMON_METRICS}
    for jt in JUMP_TYPES.values():
        events.update({e.key: e.label for e in jt.events})
        metrics.update({m.key: m.label for m in jt.metrics})
    return events, metrics


def _measures(d: dict[str, Measure]) -> tuple[dict, dict, dict]:
    return (
        {k: _r(m.value) for k, m in d.items()},
        {k: _r(m.uncertainty) for k, m in d.items()},
        {k: m.method for k, m in d.items()},
    )


def _jump_quality(q: JumpQuality) -> dict:
    return {
        "verdict": q.verdict,
        "reasons": list(q.reasons),
        "warnings": list(q.warnings),
        "frames_in_flight": q.frames_in_flight,
        "trunk_fit_rms_px": _r(q.trunk_fit_rms_px, 3),
        "event_confidence": q.event_confidence,
        "fps_adequacy": q.fps_adequacy,
        "dropped_frames_in_jump": q.dropped_frames_in_jump,
        "contact_points": q.contact_points,
    }


def jump_dict(j: Jump, q: JumpQuality | None) -> dict:
    """The JSON object of one jump."""
    ev, ev_sd, ev_m = _measures(j.events)
    me = {k: _r(m.value) for k, m in j.metrics.items()}
    out = {
        "index": j.index,
        "jump_type": j.jump_type,
        "events": ev,
        "event_uncertainty_s": ev_sd,
        "event_methods": ev_m,
        "metrics": me,
        "metric_details": {
            k: {"unit": m.unit, "uncertainty": _r(m.uncertainty), "method": m.method}
            for k, m in j.metrics.items()
        },
        "scale": {
            "method": j.scale.method,
            "pixels_per_m": _r(j.scale.pixels_per_m, 3),
            "uncertainty": _r(j.scale.uncertainty, 3),
        },
    }
    if q is not None:
        out["quality"] = _jump_quality(q)
    return out


def summary(jumps: list[dict]) -> dict:
    """How many jumps, of which types, their mean and the best (highest) one."""
    types: dict[str, int] = {}
    for j in jumps:
        types[j["jump_type"]] = types.get(j["jump_type"], 0) + 1
    mean = {}
    for key in SUMMARY_METRICS:
        vals = [j["metrics"].get(key) for j in jumps]
        vals = [v for v in vals if v is not None]
        if vals:
            mean[key] = _r(sum(vals) / len(vals))
    measured = [j for j in jumps if j["metrics"].get("jump_height_m") is not None]
    best = max(measured, key=lambda j: j["metrics"]["jump_height_m"], default=None)
    return {
        "jumps": len(jumps),
        "types": types,
        "mean": mean,
        "best": None
        if best is None
        else {
            "index": best["index"],
            "jump_type": best["jump_type"],
            "jump_height_m": best["metrics"]["jump_height_m"],
            "flight_time_s": best["metrics"]["flight_time_s"],
        },
    }


def _quality(q: Quality) -> dict:
    cam = q.camera
    jit = q.foot_jitter
    feet = jit.feet_px if jit is not None else None
    return {
        "verdict": q.verdict,
        "reasons": list(q.reasons)
        + [f"jump {jq.index}: {r}" for jq in q.jumps for r in jq.reasons],
        "warnings": list(q.warnings),
        "detection_rate": _r(q.detection_rate, 4),
        "foot_jitter_px": _r(feet, 3),
        "foot_jitter_pct_body": _r(100 * feet / q.body_height_px, 3) if feet is not None else None,
        "quiet_standing_s": [_r(jit.start_s, 3), _r(jit.end_s, 3)] if jit is not None else None,
        "body_height_px": _r(q.body_height_px, 1),
        "contact_points": q.contact_points,
        "measured_fps": _r(q.measured_fps, 3),
        "dropped_frames": q.dropped_frames,
        "duplicated_frames": q.duplicated_frames,
        "undecodable_frames": q.undecodable_frames,
        "concealed_frames": q.concealed_frames,
        "damaged_frames": [
            {"start_s": _r(r.start_s), "end_s": _r(r.end_s), "frames": r.frames, "cause": r.cause}
            for r in q.damaged
        ],
        "timestamp_jitter_ms": _r(q.timestamp_jitter_ms, 3),
        "camera": {
            "status": cam.status,
            "reason": cam.reason,
            "max_shift_px": _r(cam.max_shift_px, 2),
            "max_shift_pct_body": _r(100 * cam.max_shift_px / q.body_height_px, 2),
            "max_rotation_deg": _r(cam.max_rotation_deg, 3),
            "max_zoom_pct": _r(100 * cam.max_zoom, 3),
            "compensated": cam.applied,
            "cuts_s": [_r(c) for c in q.cuts_s],
        },
    }


def _subject(m: Measured) -> dict | None:
    """Who was measured, and how many frames the pose model looked at again on a crop."""
    if m.track is None:
        return None
    look = m.run.info.get("second_look") or {}
    return {
        **m.track.subject(),
        "tiles_found": int(look.get("discovered", 0)),
        "second_look_frames": int(look.get("frames", 0)),
        "second_look_found": int(look.get("found", 0)),
        "closer_look_crop_px": m.run.info.get("closer_look"),
    }


def _inference(m: Measured) -> dict:
    """Which frames the pose model ran on: every one (dense) or the sparse schedule's."""
    return {
        "schedule": "dense" if m.run.spec.options.dense else "sparse",
        "frames_inferred": m.run.frames_inferred,
        "frames_filled": m.run.frames_filled,
        # frames inferred again on a crop following the jumper (focus.py; 0: not done)
        "focus_crops": int((m.run.info.get("focus") or {}).get("crops", 0)),
        # the frames (or the closer look's crops) the model was given, in pixels
        "frame_size_px": list(m.run.frame_size) if m.run.frame_size else None,
    }


def to_dict(m: Measured, timings: bool = False) -> dict:
    """The JSON object for one measured video."""
    info, run, a, q = m.video, m.run, m.analysis, m.quality
    times = m.decode.times
    quality_by = {jq.index: jq for jq in q.jumps} if q is not None else {}
    jumps = [jump_dict(j, quality_by.get(j.index)) for j in a.jumps]
    out = {
        "schema_version": SCHEMA_VERSION,
        "kmo_version": __version__,
        "video": info.path,
        "status": "ok",
        "jumps_found": len(jumps),
        "backend": run.info.get("backend"),
        "model": run.info.get("model"),
        "model_kind": run.info.get("model_kind"),
        "running_mode": run.info.get("running_mode"),
        "device_requested": run.info.get("device_requested"),
        "device_used": run.info.get("device_used"),
        "fps": _r(info.fps, 3),
        "frames": len(times),
        "inference": _inference(m),
        "duration_s": _r(float(times[-1]) if len(times) else 0.0, 6),
        "width": info.width,
        "height": info.height,
        "rotation_deg": info.rotation_deg,
        "summary": summary(jumps),
        "jumps": jumps,
        "subject": _subject(m),
        "quality": _quality(q) if q is not None else None,
    }
    settings = {k: run.info[k] for k in BACKEND_SETTINGS if k in run.info}
    if settings:
        out["backend_settings"] = settings
    if run.choice:
        out["backend_choice"] = run.choice
    if isinstance(run.info.get("auto"), dict):
        out["backend_choice_details"] = run.info["auto"]
    if run.info.get("model_check"):
        out["model_check"] = run.info["model_check"]
    if run.info.get("missing_landmarks"):
        out["missing_landmarks"] = run.info["missing_landmarks"]
    if run.info.get("warnings") and out["quality"] is not None:
        out["quality"]["warnings"] = list(run.info["warnings"]) + out["quality"]["warnings"]
    if timings:
        out["timing"] = {k: _r(v, 4) for k, v in m.timing.items()}
        out["timing"]["model_load_s"] = _r(run.load_s, 4)
    return out


def error_dict(video: str | None, message: str, code: int) -> dict:
    """The JSON object for a video that could not be measured."""
    return {
        "schema_version": SCHEMA_VERSION,
        "kmo_version": __version__,
        "video": video,
        "status": "error",
        "error": message,
        "exit_code": int(code),
    }


def to_json(obj: dict) -> str:
    """Compact, key-ordered, one-line JSON."""
    return json.dumps(obj, sort_keys=False, separators=(",", ":"), allow_nan=False)


def csv_header() -> str:
    """CSV header line."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(CSV_COLUMNS)
    return buf.getvalue()


def csv_rows(obj: dict) -> str:
    """CSV lines of a result object: one per jump (one line for an error or skipped video)."""
    base = {k: obj.get(k) for k in ("video", "status", "backend", "fps", "frames")}
    base["jumps_found"] = obj.get("jumps_found")
    base["error"] = obj.get("error")
    rows = []
    for j in obj.get("jumps") or [None]:
        flat = dict(base)
        if j is not None:
            flat.update(
                jump_index=j["index"],
                jump_type=j["jump_type"],
                verdict=(j.get("quality") or {}).get("verdict"),
                **j["events"],
                **j["metrics"],
            )
        rows.append(["" if flat.get(c) is None else flat.get(c) for c in CSV_COLUMNS])
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


SCALES = {"s": (1000.0, "ms", 1), "m": (100.0, "cm", 1), "m/s": (1.0, "m/s", 2)}


def fmt(value: float | None, unit: str, sd: float | None = None) -> str:
    """A value in the unit people read (ms, cm), with its uncertainty."""
    if value is None:
        return "–"
    scale, shown, nd = SCALES.get(unit, (1.0, unit, 2))
    text = f"{value * scale:.{nd}f}"
    if sd is not None:
        text += f" ± {sd * scale:.{nd}f}"
    return f"{text} {shown}".strip()


def render_table(obj: dict):  # noqa: ANN201 - rich renderable
    """A rich table of one result object: one row per jump, plus the mean and the best."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    ev_label, me_label = labels()
    jumps = obj["jumps"]
    kind = " — stand-in model (test only)" if obj.get("model_kind") == "stand-in" else ""
    title = (
        f"{obj['video']} — {len(jumps)} jump(s) · {obj['backend']} ({obj['model']}{kind}) · "
        f"{obj['fps']:g} fps · {obj['frames']} frames"
    )
    cols = [k for k in SUMMARY_METRICS if any(j["metrics"].get(k) is not None for j in jumps)]
    tab = Table(title="Jumps (times from video start)", title_justify="left")
    for name in ("#", "Type", "Takeoff", *(me_label[k] for k in cols), "Quality"):
        tab.add_column(name, justify="left" if name in ("Type", "Quality") else "right")

    def unit(k: str) -> str:
        return next(iter(j["metric_details"][k]["unit"] for j in jumps if k in j["metrics"]))

    for j in jumps:
        jt = JUMP_TYPES[j["jump_type"]].label
        cells = [fmt(j["metrics"].get(k), unit(k)) for k in cols]
        verdict = (j.get("quality") or {}).get("verdict", "")
        tab.add_row(str(j["index"]), jt, f"{j['events']['takeoff_s']:.3f} s", *cells, verdict)
    if len(jumps) > 1:
        s = obj["summary"]
        tab.add_row("", "mean", "", *(fmt(s["mean"].get(k), unit(k)) for k in cols), "")
        if s["best"]:
            b = next(j for j in jumps if j["index"] == s["best"]["index"])
            tab.add_row(
                "best",
                f"#{b['index']} (highest)",
                "",
                *(fmt(b["metrics"].get(k), unit(k)) for k in cols),
                "",
            )
    lines = [Text(title, style="bold"), tab]
    if len(jumps) == 1:
        j = jumps[0]
        ev = Table(title="Events (from video start)", title_justify="left")
        ev.add_column("Event")
        ev.add_column("Time", justify="right")
        ev.add_column("Method")
        for k, v in j["events"].items():
            sd = j["event_uncertainty_s"].get(k)
            text = (
                "–"
                if v is None
                else f"{v:.4f} s" + ("" if sd is None else f" ± {1000 * sd:.1f} ms")
            )
            ev.add_row(ev_label.get(k, k), text, j["event_methods"][k])
        me = Table(title="Metrics", title_justify="left")
        me.add_column("Metric")
        me.add_column("Value", justify="right")
        me.add_column("Method")
        for k, v in j["metrics"].items():
            d = j["metric_details"][k]
            me.add_row(me_label.get(k, k), fmt(v, d["unit"], d["uncertainty"]), d["method"])
        lines += [
            ev,
            me,
            Text(f"Scale: {j['scale']['method']} ({j['scale']['pixels_per_m']} px/m)"),
        ]
    q = obj["quality"]
    style = "green" if q["verdict"] == "ok" else "bold yellow"
    lines.append(Text(f"Quality: {q['verdict']}", style=style))
    for reason in q["reasons"] + q["warnings"]:
        lines.append(Text(f"  ! {reason}", style="yellow"))
    return Group(*lines)
