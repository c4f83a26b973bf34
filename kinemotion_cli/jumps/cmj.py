"""Countermovement jump: from standing still, down, then up: movement start, lowest point."""

from __future__ import annotations

import numpy as np

from kinemotion_cli.jumps.common import (
    G,
    Measure,
    faster_than_free_fall,
    index_at,
    missing,
    nan_arg,
    onset_before,
    ratio,
    vertex_time,
)
from kinemotion_cli.jumps.types import EventSpec, JumpContext, JumpType, MetricSpec

NOT_IN_VIEW = "the clip starts after the movement began (no standing still in view)"
UNPHYSICAL = (
    "the hip track sinks faster than free fall in the countermovement (the pose model "
    "swapped or blended people there): the hip's speeds and phases are not measured"
)


def measure(ctx: JumpContext) -> tuple[dict[str, Measure], dict[str, Measure]]:
    """CMJ events and metrics from the hip trajectory before takeoff."""
    t, h, v = ctx.body.t, ctx.hip_h, ctx.hip_v
    half = 0.5 / ctx.body.fps
    fl = ctx.flight
    i_to = index_at(t, fl.takeoff)
    lo = ctx.rest[1] - 1 if ctx.rest else ctx.start
    lo = min(max(lo, ctx.start), i_to - 1)
    i_low = lo + nan_arg(np.nanargmin, h[lo:i_to], i_to - 1 - lo)
    t_low = min(vertex_time(t, h, i_low), fl.takeoff)
    ppm, rel = ctx.scale.pixels_per_m, ctx.scale.uncertainty / ctx.scale.pixels_per_m
    method = "; " + ctx.scale.method
    events = {"lowest_point_s": Measure(t_low, "s", half, "hip minimum (sub-frame vertex)")}
    i_up = i_low + nan_arg(np.nanargmax, v[i_low : i_to + 1], 0)
    metrics = {
        "concentric_duration_s": Measure(
            fl.takeoff - t_low, "s", half + fl.takeoff_sigma, "lowest point to takeoff"
        ),
        "peak_concentric_velocity_m_s": Measure(
            float(v[i_up]) / ppm, "m/s", abs(v[i_up]) / ppm * rel, "hip, upward" + method
        ),
    }
    why = NOT_IN_VIEW if ctx.rest is None else None
    if ctx.rest is not None:
        rest_lo = ctx.rest[0]
        i_down = rest_lo + nan_arg(np.nanargmin, v[rest_lo : i_low + 1], i_low - rest_lo)
        if faster_than_free_fall(v[i_down], -h[i_down], ppm, rel):
            why = UNPHYSICAL
            metrics["peak_concentric_velocity_m_s"] = missing("m/s", UNPHYSICAL)
    if why is not None:
        events["movement_start_s"] = missing("s", why)
        for key, unit in (
            ("countermovement_depth_m", "m"),
            ("eccentric_duration_s", "s"),
            ("time_to_takeoff_s", "s"),
            ("peak_eccentric_velocity_m_s", "m/s"),
        ):
            metrics[key] = missing(unit, why)
    else:
        away = _below_standing(h, ctx.rest, -float(h[i_low]))
        t_ms = min(onset_before(v, t, i_down, rest_lo, away=away), t_low)
        events["movement_start_s"] = Measure(
            t_ms, "s", half, "hip velocity onset (8% of peak downward)"
        )
        depth = float(-h[i_low]) / ppm
        metrics["countermovement_depth_m"] = Measure(
            depth, "m", abs(depth) * rel + 1 / ppm, "hip drop from standing" + method
        )
        metrics["eccentric_duration_s"] = Measure(
            t_low - t_ms, "s", 2 * half, "movement start to lowest point"
        )
        metrics["time_to_takeoff_s"] = Measure(
            fl.takeoff - t_ms, "s", half + fl.takeoff_sigma, "movement start to takeoff"
        )
        metrics["peak_eccentric_velocity_m_s"] = Measure(
            float(v[i_down]) / ppm,
            "m/s",
            abs(v[i_down]) / ppm * rel,
            "hip, negative = downward" + method,
        )
    height = Measure(ctx.jump_height_m, "m", G * fl.duration / 4 * fl.duration_sigma, "")
    metrics["rsi_modified"] = ratio(
        height, metrics["time_to_takeoff_s"], "m/s", "jump height / time to takeoff"
    )
    events = {k: events[k] for k in ("movement_start_s", "lowest_point_s")}
    order = (
        "countermovement_depth_m",
        "eccentric_duration_s",
        "concentric_duration_s",
        "time_to_takeoff_s",
        "rsi_modified",
        "peak_eccentric_velocity_m_s",
        "peak_concentric_velocity_m_s",
    )
    return events, {k: metrics[k] for k in order}


def _below_standing(h: np.ndarray, rest: tuple[int, int], depth: float) -> np.ndarray:
    """Frames where the hip is clearly into the countermovement: below its level at the end
    of the standing still by a quarter of the ``depth`` (px) and beyond 3 robust sd of its
    wobble there (a shallower dip cannot be told from the standing level shifting: drift,
    a step)."""
    a, b = rest
    tail = h[max(a, b - max(3, (b - a) // 2)) : b]
    tail = tail[np.isfinite(tail)]
    if tail.size < 3:
        return np.zeros(len(h), bool)
    level = float(np.median(tail))
    sd = 1.4826 * float(np.median(np.abs(tail - level)))
    with np.errstate(invalid="ignore"):
        return h < level - max(3.0 * sd, 1.0, 0.25 * depth)


TYPE = JumpType(
    name="cmj",
    cli="cmj",
    label="Countermovement jump",
    starts="standing",
    first_phase="standing",
    events=(
        EventSpec("movement_start_s", "Movement start", "countermovement"),
        EventSpec("lowest_point_s", "Lowest point", "propulsion"),
    ),
    metrics=(
        MetricSpec("countermovement_depth_m", "Countermovement depth", "CM depth"),
        MetricSpec("eccentric_duration_s", "Eccentric duration"),
        MetricSpec("concentric_duration_s", "Concentric duration"),
        MetricSpec("time_to_takeoff_s", "Time to takeoff"),
        MetricSpec("rsi_modified", "RSI modified", "RSI mod"),
        MetricSpec("peak_eccentric_velocity_m_s", "Peak eccentric velocity"),
        MetricSpec("peak_concentric_velocity_m_s", "Peak concentric velocity"),
    ),
    rsi="rsi_modified",
    measure=measure,
)
