"""Output: the rich table, the JSON contract and CSV rows.

JSON contract (schema_version 1) is documented in the README. All numbers are rounded to
fixed decimals so the same input gives byte-identical output; timing fields appear only with
``--timings``.
"""

from __future__ import annotations

import csv
import io
import json
import math

import numpy as np

from kinemotion_cli import __version__
from kinemotion_cli.landmarks import FOOT_POINTS, INDEX
from kinemotion_cli.pipeline import Analysis

SCHEMA_VERSION = 1
CSV_COLUMNS = (
    "video",
    "status",
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
LABELS = {
    "movement_start_s": "Movement start",
    "lowest_point_s": "Lowest point",
    "push_off_start_s": "Push-off start",
    "box_leave_s": "Leaves box",
    "contact_start_s": "First contact",
    "takeoff_s": "Takeoff",
    "landing_s": "Landing",
}


def _r(x: float | None, nd: int = 6) -> float | None:
    if x is None or not math.isfinite(float(x)):
        return None
    v = round(float(x), nd)
    return 0.0 if v == 0 else v


BACKEND_SETTINGS = ("mode", "threads", "det_every", "batch")  # onnxruntime backends

# Quality thresholds (documented in the README, "Quality report").
MIN_EVENT_SCORE = 0.5  # mean landmark score around an event
MAX_CAMERA_MOTION_PCT = 3.0  # foot drift while standing still, % of body height
MAX_DROPPED_SHARE = 0.02  # dropped frames outside the jump
FOOT_EVENTS = ("takeoff_s", "landing_s", "contact_start_s", "box_leave_s")


def frame_timing(times: np.ndarray) -> dict:
    """Dropped frames (timestamp gaps over 1.5 intervals) and timestamp jitter."""
    if len(times) < 3:
        return {"dropped_frames": 0, "gaps": [], "timestamp_jitter_ms": None}
    dt = np.diff(times)
    med = float(np.median(dt))
    gap = dt > 1.5 * med
    missing = np.where(gap, np.round(dt / med) - 1, 0).astype(int)
    regular = dt[~gap]
    return {
        "dropped_frames": int(missing.sum()),
        "gaps": [(float(times[k]), float(times[k + 1])) for k in np.flatnonzero(gap)],
        "timestamp_jitter_ms": _r(1000 * float(np.std(regular)), 3) if regular.size else None,
    }


def _fps_adequacy(metrics: dict, fps: float) -> dict:
    """Whether the frame rate suffices for each metric: ok, marginal or inadequate.

    Durations are judged by how many frame intervals they span (>= 10 ok, >= 5 marginal; the
    flight is judged on its sub-frame parabola fit, so >= 6 frames is ok, >= 4 marginal);
    peak velocities need >= 50 fps (ok) or >= 25 fps (marginal) for a 10 Hz low-pass.
    """
    flight = metrics.get("flight_time_s")
    flight_frames = flight.value * fps if flight is not None else 0.0

    def grade(n: float, ok: float, marginal: float) -> str:
        return "ok" if n >= ok else ("marginal" if n >= marginal else "inadequate")

    out = {}
    for key, m in metrics.items():
        if key in ("flight_time_s", "jump_height_m") or key.startswith("rsi_flight"):
            out[key] = grade(flight_frames, 6, 4)
        elif "velocity" in key:
            out[key] = grade(fps, 50, 25)
        elif m.unit == "s" and m.value is not None and np.isfinite(m.value):
            out[key] = grade(m.value * fps, 10, 5)
        elif key.startswith("rsi"):  # a height (flight) over a duration (contact/takeoff)
            parts = [out.get("flight_time_s", "ok")]
            for dur in ("ground_contact_time_s", "time_to_takeoff_s"):
                d = metrics.get(dur)
                if d is not None and np.isfinite(d.value):
                    parts.append(grade(d.value * fps, 10, 5))
            order = ("ok", "marginal", "inadequate")
            out[key] = max(parts, key=order.index)
        else:
            out[key] = "ok"  # depths and heights: spatial, not limited by the frame rate
    return out


def _camera_motion(a: Analysis, start: float) -> float | None:
    """Foot drift (p95 - p5 of x and y, % of body height) while standing before ``start``.

    A proxy for camera motion: on a tripod the standing feet do not move in the image. Needs
    0.3 s of quiet standing; None otherwise.
    """
    tr, s = a.tracked, a.result.signals
    lm = tr.landmarks[:, FOOT_POINTS, :]
    ok = np.nan_to_num(lm[..., 2], nan=0.0) >= 0.3
    x = np.where(ok, lm[..., 0], np.nan)
    y = np.where(ok, lm[..., 1], np.nan)
    with np.errstate(all="ignore"):
        fx, fy = np.nanmean(x, axis=1), np.nanmean(y, axis=1)
    quiet = (tr.times < start - 0.1) & np.isfinite(fx) & np.isfinite(fy)
    if tr.times[quiet].size < 3 or np.ptp(tr.times[quiet]) < 0.3:
        return None
    drift = max(float(np.percentile(v[quiet], 95) - np.percentile(v[quiet], 5)) for v in (fx, fy))
    return 100 * drift / s.body_px


def quality(a: Analysis) -> dict:
    """Landmark, timing and frame-rate quality of one measured video, with a verdict.

    The verdict is "low confidence" when any reason is listed (see README, "Quality report").
    """
    r, tr, info = a.result, a.tracked, a.tracked.info
    s, fl = r.signals, r.flight
    warnings = list(info.warnings) + list(r.warnings)
    times = tr.times
    fps = float(np.round(1.0 / np.median(np.diff(times)), 3)) if len(times) > 2 else 0.0
    groups = {
        "feet": list(FOOT_POINTS),
        "hips": [INDEX["left_hip"], INDEX["right_hip"]],
    }

    def near(time: float, points: list[int]) -> float | None:
        i = int(np.searchsorted(times, time))
        seg = tr.landmarks[max(i - 2, 0) : i + 2, points, 2]
        return _r(float(np.nanmean(seg)), 3) if np.isfinite(seg).any() else None

    event_conf = {
        k: near(m.value, groups["feet" if k in FOOT_EVENTS else "hips"])
        for k, m in r.events.items()
        if m.value is not None and np.isfinite(m.value)
    }
    timing = frame_timing(times)
    starts = [m.value for m in r.events.values() if m.value is not None and np.isfinite(m.value)]
    jump_from, jump_to = min(starts, default=fl.takeoff), fl.landing
    in_jump = sum(1 for t0, t1 in timing["gaps"] if t1 >= jump_from - 0.1 and t0 <= jump_to + 0.1)
    cam = _camera_motion(a, jump_from)
    adequacy = _fps_adequacy(r.metrics, fps)
    q = {
        "detection_rate": tr.subject.get("detection_rate"),
        "foot_noise_px": _r(s.noise_px, 3),
        "foot_noise_pct_body": _r(100 * s.noise_px / s.body_px, 3),
        "body_height_px": _r(s.body_px, 1),
        "foot_signal": s.foot_source,
        "flight_fit_rms_px": _r(fl.fit.rms, 3),
        "frames_in_flight": int(((times > fl.takeoff) & (times < fl.landing)).sum()),
        "foot_score_at_takeoff": event_conf.get("takeoff_s"),
        "foot_score_at_landing": event_conf.get("landing_s"),
        "event_confidence": event_conf,
        "measured_fps": fps,
        "fps_adequacy": adequacy,
        "dropped_frames": timing["dropped_frames"],
        "dropped_frames_in_jump": in_jump,
        "duplicated_frames": int(info.duplicate_frames),
        "undecodable_frames": int(info.decode_errors),
        "timestamp_jitter_ms": timing["timestamp_jitter_ms"],
        "camera_motion_pct_body": _r(cam, 2) if cam is not None else None,
    }
    low = []
    if q["frames_in_flight"] < 6:
        low.append(f"only {q['frames_in_flight']} frames in flight: film at 60 fps or more")
    if (q["detection_rate"] or 0) < 0.9:
        low.append(f"the athlete was detected in only {100 * q['detection_rate']:.0f}% of frames")
    if s.noise_px > 0.01 * s.body_px:
        low.append("foot landmarks are jittery (noise > 1% of body height)")
    for key, score in event_conf.items():
        if score is not None and score < MIN_EVENT_SCORE:
            low.append(f"low landmark confidence at {key.removesuffix('_s')} ({score:.2f})")
    if fl.fit.rms > 0.02 * s.body_px:
        low.append("the feet do not follow a clean flight parabola")
    if in_jump:
        low.append(f"{in_jump} gap(s) of dropped frames during the jump")
    elif q["dropped_frames"] > MAX_DROPPED_SHARE * len(times):
        low.append(f"{q['dropped_frames']} dropped frames (timestamp gaps)")
    if q["undecodable_frames"] or q["duplicated_frames"]:
        low.append(
            f"damaged video: {q['undecodable_frames']} undecodable and "
            f"{q['duplicated_frames']} duplicated frame(s)"
        )
    bad = sorted(k for k, v in adequacy.items() if v == "inadequate")
    if bad:
        low.append(f"{fps:g} fps is too low for {', '.join(bad)}")
    if cam is not None and cam > MAX_CAMERA_MOTION_PCT:
        low.append(
            f"the camera (or the feet) moved during quiet standing ({cam:.1f}% of body "
            "height): use a tripod"
        )
    q["verdict"] = "low confidence" if low else "ok"
    q["reasons"] = low
    q["warnings"] = warnings
    return q


def to_dict(a: Analysis, timings: bool = False) -> dict:
    """The JSON object for one measured video."""
    r, tr, info = a.result, a.tracked, a.tracked.info
    out = {
        "schema_version": SCHEMA_VERSION,
        "kmo_version": __version__,
        "video": info.path,
        "status": "ok",
        "jump_type": r.jump_type,
        "backend": tr.backend_info.get("backend"),
        "model": tr.backend_info.get("model"),
        "running_mode": tr.backend_info.get("running_mode"),
        "device_requested": tr.backend_info.get("device_requested"),
        "device_used": tr.backend_info.get("device_used"),
        "fps": _r(info.fps, 3),
        "frames": len(tr.times),
        "duration_s": _r(float(tr.times[-1]) if len(tr.times) else 0.0, 6),
        "width": info.width,
        "height": info.height,
        "rotation_deg": info.rotation_deg,
        "events": {k: _r(m.value) for k, m in r.events.items()},
        "event_uncertainty_s": {k: _r(m.uncertainty) for k, m in r.events.items()},
        "event_methods": {k: m.method for k, m in r.events.items()},
        "metrics": {k: _r(m.value) for k, m in r.metrics.items()},
        "metric_details": {
            k: {"unit": m.unit, "uncertainty": _r(m.uncertainty), "method": m.method}
            for k, m in r.metrics.items()
        },
        "scale": {
            "method": r.scale["method"],
            "pixels_per_m": _r(r.scale["pixels_per_m"], 3),
            "uncertainty": _r(r.scale["uncertainty"], 3),
        },
        "subject": tr.subject,
        "quality": quality(a),
    }
    settings = {k: tr.backend_info[k] for k in BACKEND_SETTINGS if k in tr.backend_info}
    if settings:
        out["backend_settings"] = settings
    for key, name in (("auto", "backend_choice"), ("missing_landmarks", "missing_landmarks")):
        if tr.backend_info.get(key):
            out[name] = tr.backend_info[key]
    if timings:
        out["timing"] = {k: _r(v, 4) for k, v in tr.timing.items()}
        out["timing"]["model_load_s"] = _r(tr.backend_info.get("load_s"), 4)
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


def csv_row(obj: dict) -> str:
    """One CSV line for a result or error object."""
    flat = {
        **{k: obj.get(k) for k in ("video", "status", "jump_type", "backend", "fps", "frames")},
        **obj.get("events", {}),
        **obj.get("metrics", {}),
        "verdict": obj.get("quality", {}).get("verdict"),
        "error": obj.get("error"),
    }
    buf = io.StringIO()
    row = ["" if flat.get(c) is None else flat.get(c) for c in CSV_COLUMNS]
    csv.writer(buf, lineterminator="\n").writerow(row)
    return buf.getvalue()


def _fmt(value: float | None, unit: str, sd: float | None) -> str:
    if value is None:
        return "–"
    scale, shown = {"s": (1000.0, "ms"), "m": (100.0, "cm")}.get(unit, (1.0, unit))
    nd = 1 if unit in ("s", "m") else 2
    text = f"{value * scale:.{nd}f}"
    if sd is not None:
        text += f" ± {sd * scale:.{nd}f}"
    return f"{text} {shown}".strip()


def render_table(obj: dict):  # noqa: ANN201 - rich renderable
    """A rich table of one result object."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    title = (
        f"{obj['video']} — {obj['jump_type'].replace('_', ' ').upper()} · {obj['backend']} "
        f"({obj['model']}) · {obj['fps']:g} fps · {obj['frames']} frames"
    )
    ev = Table(title="Events (from video start)", title_justify="left")
    ev.add_column("event")
    ev.add_column("time", justify="right")
    for k, v in obj["events"].items():
        sd = obj["event_uncertainty_s"].get(k)
        text = "–" if v is None else f"{v:.4f} s" + ("" if sd is None else f" ± {1000 * sd:.1f} ms")
        ev.add_row(LABELS.get(k, k), text)
    me = Table(title="Metrics", title_justify="left")
    me.add_column("metric")
    me.add_column("value", justify="right")
    me.add_column("method")
    for k, v in obj["metrics"].items():
        d = obj["metric_details"][k]
        me.add_row(k, _fmt(v, d["unit"], d["uncertainty"]), d["method"])
    q = obj["quality"]
    style = "green" if q["verdict"] == "ok" else "bold yellow"
    lines = [Text(title, style="bold"), ev, me]
    lines.append(Text(f"Scale: {obj['scale']['method']} ({obj['scale']['pixels_per_m']} px/m)"))
    lines.append(Text(f"Quality: {q['verdict']}", style=style))
    for reason in q["reasons"] + q["warnings"]:
        lines.append(Text(f"  ! {reason}", style="yellow"))
    return Group(*lines)
