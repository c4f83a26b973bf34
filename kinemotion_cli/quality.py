"""Quality: how far each number can be trusted, as a typed verdict with its reasons.

One definition of landmark **jitter** serves the report and ``kmo compare``: in a window of
quiet standing, per landmark and coordinate, ``sigma = RMS(x[i+1] - 2 x[i] + x[i-1]) / sqrt(6)``
(white noise of std sigma gives second differences of variance 6 sigma^2, while slow sway
barely contributes); a landmark's jitter is ``sqrt(sigma_x^2 + sigma_y^2)``.

Damaged video (frames the decoder could not decode or had to conceal errors in) is handled
here too: an event that falls in a damaged frame range is never reported as measured
(:func:`withhold_damaged`).
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from dataclasses import dataclass

import numpy as np

from kinemotion_cli.camera import CameraMotion
from kinemotion_cli.jumps import Analysis, Jump
from kinemotion_cli.jumps.common import Measure, missing
from kinemotion_cli.jumps.contact import STILL_BODY_PER_S, local_slope
from kinemotion_cli.landmarks import FEET_NAMES, HALPE26, INDEX, head_top_y
from kinemotion_cli.subject import Track
from kinemotion_cli.video import DecodeReport, VideoInfo

MIN_EVENT_SCORE = 0.5  # mean landmark score around an event
MAX_JITTER_SHARE = 0.01  # foot jitter above 1 % of body height
MAX_DROPPED_SHARE = 0.02  # dropped frames outside the jumps
MIN_DETECTION = 0.9
MIN_FLIGHT_FRAMES, OK_FLIGHT_FRAMES = 4, 6
MAX_TRUNK_RMS_SHARE = 0.02
# A takeoff or landing timed no better than this many frame intervals (1 sd) is not a frame-
# accurate event (e.g. the athlete was not followed in the frames around it).
MAX_EVENT_SD_FRAMES = 3.0
QUIET_MIN_S = 0.3  # shortest usable quiet-standing window
QUIET_TRIM_S = 0.05  # dropped at both ends of the window (onset of movement)
JITTER_GROUPS = {
    "ankles": ("left_ankle", "right_ankle"),
    "heels": ("left_heel", "right_heel"),
    "toes": ("left_big_toe", "right_big_toe", "left_small_toe", "right_small_toe"),
}
FOOT_EVENTS = ("takeoff_s", "landing_s", "contact_start_s", "box_leave_s")


# --------------------------------------------------------------------------- jitter


def body_height_px(landmarks: np.ndarray) -> float:
    """Median head-to-lowest-foot-point distance (pixels); NaN when not visible."""
    foot = [INDEX[n] for n in FEET_NAMES]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN frames
        head = head_top_y(landmarks[..., 1])
        body = np.nanmax(landmarks[:, foot, 1], axis=1) - head
    return float(np.nanmedian(body)) if np.isfinite(body).any() else float("nan")


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(d == 1).tolist(), np.flatnonzero(d == -1).tolist()))


def quiet_window(
    t: np.ndarray, landmarks: np.ndarray, until_s: float | None = None
) -> tuple[int, int] | None:
    """Half-open frame range of quiet standing: the longest run (before ``until_s``) where
    the mid-hip and the mean foot point both move slower than 0.15 body heights/s, trimmed
    by 0.05 s at each end; None if shorter than 0.3 s."""
    n = len(t)
    if n < 5:
        return None
    body = body_height_px(landmarks)
    if not math.isfinite(body) or body <= 10:
        return None
    foot = [INDEX[n] for n in FEET_NAMES]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        foot_y = np.nanmean(landmarks[:, foot, 1], axis=1)
    hip_y = landmarks[:, INDEX["hip"], 1]
    still = np.ones(n, bool)
    for y in (foot_y, hip_y):
        v = local_slope(y, t, 0.05)
        still &= np.isfinite(v) & (np.abs(v) < STILL_BODY_PER_S * body)
    if until_s is not None:
        still &= t < until_s
    fps = 1.0 / float(np.median(np.diff(t)))
    trim = int(round(QUIET_TRIM_S * fps))
    best = None
    for a, b in _runs(still):
        a, b = a + trim, b - trim
        if b - a >= max(5, QUIET_MIN_S * fps) and (best is None or b - a > best[1] - best[0]):
            best = (a, b)
    return best


def second_diff_sigma(x: np.ndarray) -> float | None:
    """Noise std of a series from its second difference: RMS(d2) / sqrt(6); None if < 3."""
    d2 = x[2:] - 2 * x[1:-1] + x[:-2]
    d2 = d2[np.isfinite(d2)]
    if len(d2) < 3:
        return None
    return float(np.sqrt(np.mean(d2 * d2) / 6.0))


def jitter(landmarks: np.ndarray, window: tuple[int, int], body_px: float) -> dict:
    """Per foot landmark jitter in px and % of body height over ``window``."""
    a, b = window
    out: dict[str, dict | None] = {}
    for name in FEET_NAMES:
        seg = landmarks[a:b, INDEX[name], :2]
        sx, sy = second_diff_sigma(seg[:, 0]), second_diff_sigma(seg[:, 1])
        if sx is None or sy is None:
            out[name] = None
            continue
        px = math.hypot(sx, sy)
        out[name] = {"px": px, "pct_body": 100 * px / body_px, "x_px": sx, "y_px": sy}
    return out


def group_jitter(per_landmark: dict) -> dict:
    """Mean jitter of the ankles, heels and toes (px and % body); None where missing."""
    out = {}
    for g, names in JITTER_GROUPS.items():
        vals = [per_landmark[n] for n in names if per_landmark.get(n)]
        out[g] = (
            {
                "px": float(np.mean([v["px"] for v in vals])),
                "pct_body": float(np.mean([v["pct_body"] for v in vals])),
            }
            if vals
            else None
        )
    return out


@dataclass(frozen=True)
class Jitter:
    """Foot-landmark jitter during quiet standing."""

    window: tuple[int, int]
    start_s: float
    end_s: float
    body_height_px: float
    per_landmark: dict
    groups: dict

    @property
    def feet_px(self) -> float | None:
        """Mean jitter of the heels and toes (the ankles when those are missing)."""
        vals = [g["px"] for k, g in self.groups.items() if g and k != "ankles"]
        if not vals and self.groups.get("ankles"):
            vals = [self.groups["ankles"]["px"]]
        return float(np.mean(vals)) if vals else None


def measure_jitter(track: Track, until_s: float | None) -> Jitter | None:
    """Jitter of the jumper's foot landmarks in the longest quiet standing before
    ``until_s`` (None: the whole clip), on the frames the pose model ran on."""
    window = quiet_window(track.times, track.landmarks, until_s)
    if window is None:
        return None
    body = body_height_px(track.landmarks)
    a, b = window
    per = jitter(track.landmarks[a:b][track.seen()[a:b]], (0, b - a), body)
    return Jitter(
        window, float(track.times[a]), float(track.times[b - 1]), body, per, group_jitter(per)
    )


# --------------------------------------------------------------------------- damaged frames


def withhold_damaged(analysis: Analysis, report: DecodeReport) -> Analysis:
    """The analysis with every event in a damaged frame range, and the jump's metrics, not
    reported as measured (value None, with the reason)."""
    if not report.damaged:
        return analysis
    margin = 1.0 / max(report.measured_fps, 1.0)
    jumps = []
    for j in analysis.jumps:
        bad = {
            k: r
            for k, m in j.events.items()
            if m.ok and (r := report.damaged_at(m.value, margin)) is not None
        }
        if not bad:
            jumps.append(j)
            continue
        first = next(iter(bad.values()))
        why = (
            f"not measured: damaged video frames ({first.cause}) at "
            f"{first.start_s:.3f}-{first.end_s:.3f} s"
        )
        events = {k: missing(m.unit, why) if k in bad else m for k, m in j.events.items()}
        metrics = {k: missing(m.unit, why) for k, m in j.metrics.items()}
        jumps.append(dataclasses.replace(j, events=events, metrics=metrics))
    return dataclasses.replace(analysis, jumps=tuple(jumps))


# --------------------------------------------------------------------------- verdicts


@dataclass(frozen=True)
class JumpQuality:
    """How far one jump's numbers can be trusted."""

    index: int
    verdict: str
    reasons: tuple[str, ...]
    frames_in_flight: int
    trunk_fit_rms_px: float | None
    event_confidence: dict[str, float | None]
    fps_adequacy: dict[str, str]
    dropped_frames_in_jump: int
    contact_points: dict[str, list[str]]
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class Quality:
    """How far a measured video's numbers can be trusted: the verdict and its reasons."""

    verdict: str
    reasons: tuple[str, ...]
    warnings: tuple[str, ...]
    detection_rate: float
    foot_jitter: Jitter | None
    body_height_px: float
    contact_points: str
    measured_fps: float
    dropped_frames: int
    duplicated_frames: int
    undecodable_frames: int
    concealed_frames: int
    damaged: tuple
    timestamp_jitter_ms: float | None
    camera: CameraMotion
    jumps: tuple[JumpQuality, ...]
    cuts_s: tuple[float, ...] = ()  # where the video cuts to another shot (an edit)


def _grade(n: float, ok: float, marginal: float) -> str:
    return "ok" if n >= ok else ("marginal" if n >= marginal else "inadequate")


def fps_adequacy(metrics: dict[str, Measure], fps: float, flight_s: float) -> dict[str, str]:
    """Whether the frame rate suffices for each metric: ok, marginal or inadequate.

    Durations by the frame intervals they span (>= 10 ok, >= 5 marginal); flight time and
    jump height by frames in flight (>= 6 ok, >= 4 marginal; the events are timed between
    frames); peak velocities by the frame rate (>= 50 fps ok, >= 25 marginal); RSI takes the
    worse of its two terms; depths and heights are spatial (``ok``).
    """
    fps = round(fps, 6)  # timestamps give 24.999999999 for 25 fps: grade the nominal rate
    flight_frames = flight_s * fps
    out: dict[str, str] = {}
    order = ("ok", "marginal", "inadequate")
    for key, m in metrics.items():
        if key in ("flight_time_s", "jump_height_m") or key.startswith("rsi_flight"):
            out[key] = _grade(flight_frames, OK_FLIGHT_FRAMES, MIN_FLIGHT_FRAMES)
        elif "velocity" in key:
            out[key] = _grade(fps, 50, 25)
        elif m.unit == "s" and m.ok:
            out[key] = _grade(m.value * fps, 10, 5)
        elif key.startswith("rsi"):
            parts = [out.get("flight_time_s", "ok")]
            for dur in ("ground_contact_time_s", "time_to_takeoff_s"):
                d = metrics.get(dur)
                if d is not None and d.ok:
                    parts.append(_grade(d.value * fps, 10, 5))
            out[key] = max(parts, key=order.index)
        else:
            out[key] = "ok"
    return out


def _jump_quality(j: Jump, track: Track, report: DecodeReport, body_px: float) -> JumpQuality:
    times = track.times
    fl = j.flight
    groups = {
        "feet": [INDEX[n] for n in FEET_NAMES],
        "hips": [INDEX["left_hip"], INDEX["right_hip"]],
    }

    def near(time: float, points: list[int]) -> float | None:
        i = int(np.searchsorted(times, time))
        seg = track.landmarks[max(i - 2, 0) : i + 2, points, 2]
        return round(float(np.nanmean(seg)), 3) if np.isfinite(seg).any() else None

    conf = {
        k: near(m.value, groups["feet" if k in FOOT_EVENTS else "hips"])
        for k, m in j.events.items()
        if m.ok
    }
    starts = [m.value for m in j.events.values() if m.ok]
    jump_from = min(starts, default=fl.takeoff)
    in_jump = sum(1 for a, b in report.gaps if b >= jump_from - 0.1 and a <= fl.landing + 0.1)
    adequacy = fps_adequacy(j.metrics, report.measured_fps, fl.duration)
    rms = fl.trunk.rms if fl.trunk is not None else None
    reasons = []
    if fl.frames_inside < OK_FLIGHT_FRAMES:
        reasons.append(f"only {fl.frames_inside} frames in flight: film at 60 fps or more")
    for key, score in conf.items():
        if score is None:
            reasons.append(f"the athlete is not seen around {key.removesuffix('_s')}")
        elif score < MIN_EVENT_SCORE:
            reasons.append(f"low landmark confidence at {key.removesuffix('_s')} ({score:.2f})")
    for key in ("takeoff_s", "landing_s", "contact_start_s"):
        m = j.events.get(key)
        sd = m.uncertainty if m is not None and m.ok else None
        if sd is not None and sd > MAX_EVENT_SD_FRAMES / report.measured_fps:
            reasons.append(
                f"{key.removesuffix('_s')} timed only to +-{sd * 1e3:.0f} ms (1 sd): the "
                "feet were not followed clearly in the frames around it"
            )
    if rms is not None and rms > MAX_TRUNK_RMS_SHARE * body_px:
        reasons.append("the body does not follow a clean flight parabola")
    if in_jump:
        reasons.append(f"{in_jump} gap(s) of dropped frames during the jump")
    bad = sorted(k for k, v in adequacy.items() if v == "inadequate")
    if bad:
        reasons.append(f"{report.measured_fps:g} fps is too low for {', '.join(bad)}")
    withheld = [k for k, m in j.events.items() if not m.ok and m.method.startswith("not measured")]
    if withheld:
        reasons.append(
            f"damaged video frames at {', '.join(k.removesuffix('_s') for k in withheld)}"
        )
    points = {
        "takeoff": sorted({HALPE26[c.point] for c in fl.takeoff_contacts}),
        "landing": sorted({HALPE26[c.point] for c in fl.landing_contacts}),
    }
    return JumpQuality(
        j.index,
        "low confidence" if reasons else "ok",
        tuple(reasons),
        fl.frames_inside,
        rms,
        conf,
        adequacy,
        in_jump,
        points,
        j.warnings,
    )


def assess(
    info: VideoInfo,
    report: DecodeReport,
    camera: CameraMotion,
    track: Track,
    analysis: Analysis,
) -> Quality:
    """The quality of one measured video: video-level checks and one verdict per jump."""
    body_px = analysis.body.body_px
    first = analysis.jumps[0].flight.takeoff if analysis.jumps else None
    jit = measure_jitter(track, None if first is None else first - 0.3)
    jumps = tuple(_jump_quality(j, track, report, body_px) for j in analysis.jumps)
    reasons = []
    if track.detection_rate < MIN_DETECTION:
        reasons.append(
            f"the athlete was detected in only {100 * track.detection_rate:.0f}% of frames"
        )
    feet = jit.feet_px if jit is not None else None
    if feet is not None and feet > MAX_JITTER_SHARE * body_px:
        reasons.append("foot landmarks are jittery (more than 1% of body height)")
    if report.undecodable or report.concealed or report.duplicate_frames:
        reasons.append(
            f"damaged video: {report.undecodable} undecodable, {report.concealed} concealed "
            f"and {report.duplicate_frames} duplicated frame(s)"
        )
    outside = report.dropped_frames - sum(q.dropped_frames_in_jump for q in jumps)
    if outside > MAX_DROPPED_SHARE * report.frames:
        reasons.append(f"{report.dropped_frames} dropped frames (timestamp gaps)")
    if camera.status == "partly compensated":
        reasons.append(f"the camera moved and could not be followed everywhere ({camera.reason})")
    notes = list(info.warnings) + list(report.warnings) + list(analysis.warnings)
    cuts_s = tuple(float(report.times[i]) for i in camera.cuts if i < len(report.times))
    if cuts_s:
        at = ", ".join(f"{c:.2f}" for c in cuts_s[:5])
        more = f" and {len(cuts_s) - 5} more" if len(cuts_s) > 5 else ""
        notes.append(
            f"the video is edited: it cuts to another shot at {at} s{more}; people are "
            "followed, and camera motion measured, within each shot"
        )
    if camera.status == "not measurable":
        notes.append(f"camera motion could not be checked: {camera.reason}")
    elif camera.applied:
        notes.append(
            f"the camera moved (up to {camera.max_shift_px:.0f} px); its motion was removed "
            "from the landmarks"
        )
    low = reasons or any(q.verdict != "ok" for q in jumps)
    return Quality(
        verdict="low confidence" if low else "ok",
        reasons=tuple(reasons),
        warnings=tuple(notes),
        detection_rate=track.detection_rate,
        foot_jitter=jit,
        body_height_px=body_px,
        contact_points=analysis.body.foot_source,
        measured_fps=report.measured_fps,
        dropped_frames=report.dropped_frames,
        duplicated_frames=report.duplicate_frames,
        undecodable_frames=report.undecodable,
        concealed_frames=report.concealed,
        damaged=report.damaged,
        timestamp_jitter_ms=report.timestamp_jitter_ms,
        camera=camera,
        jumps=jumps,
        cuts_s=cuts_s,
    )
