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
from kinemotion_cli.landmarks import FOOT_POINTS
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


def quality(a: Analysis) -> dict:
    """Landmark and timing quality of one measured video, with a verdict."""
    r, tr = a.result, a.tracked
    s, fl = r.signals, r.flight
    warnings = list(tr.info.warnings) + list(r.warnings)
    fps = float(np.round(1.0 / np.median(np.diff(tr.times)), 3)) if len(tr.times) > 2 else 0.0
    scores = tr.landmarks[:, FOOT_POINTS, 2]

    def near(time: float) -> float | None:
        i = int(np.searchsorted(tr.times, time))
        seg = scores[max(i - 2, 0) : i + 2]
        return _r(float(np.nanmean(seg)), 3) if np.isfinite(seg).any() else None

    q = {
        "detection_rate": tr.subject.get("detection_rate"),
        "foot_noise_px": _r(s.noise_px, 3),
        "foot_noise_pct_body": _r(100 * s.noise_px / s.body_px, 3),
        "body_height_px": _r(s.body_px, 1),
        "foot_signal": s.foot_source,
        "flight_fit_rms_px": _r(fl.fit.rms, 3),
        "frames_in_flight": int(((tr.times > fl.takeoff) & (tr.times < fl.landing)).sum()),
        "foot_score_at_takeoff": near(fl.takeoff),
        "foot_score_at_landing": near(fl.landing),
        "measured_fps": fps,
    }
    low = []
    if q["frames_in_flight"] < 6:
        low.append(f"only {q['frames_in_flight']} frames in flight: film at 60 fps or more")
    if (q["detection_rate"] or 0) < 0.9:
        low.append(f"the athlete was detected in only {100 * q['detection_rate']:.0f}% of frames")
    if s.noise_px > 0.01 * s.body_px:
        low.append("foot landmarks are jittery (noise > 1% of body height)")
    for key in ("foot_score_at_takeoff", "foot_score_at_landing"):
        if q[key] is not None and q[key] < 0.5:
            low.append(f"low landmark confidence at {key.rsplit('_', 1)[-1]} ({q[key]:.2f})")
    if fl.fit.rms > 0.02 * s.body_px:
        low.append("the feet do not follow a clean flight parabola")
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
    for key, name in (("auto", "backend_choice"), ("missing_landmarks", "missing_landmarks")):
        if tr.backend_info.get(key):
            out[name] = tr.backend_info[key]
    if timings:
        out["timing"] = {k: _r(v, 4) for k, v in tr.timing.items()}
        out["timing"]["model_load_s"] = _r(tr.backend_info.get("load_s"), 4)
    return out


def error_dict(video: str, message: str, code: int) -> dict:
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
