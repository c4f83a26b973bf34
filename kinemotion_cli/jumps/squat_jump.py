"""Squat jump: push-off from a held squat, takeoff, landing."""

from __future__ import annotations

import numpy as np

from kinemotion_cli.jumps.common import Context, Measure, index_at, onset_before

NAME = "squat_jump"


def push_off(ctx: Context) -> tuple[float, int, int]:
    """(push-off start time, index of peak upward hip velocity, search start index)."""
    t, v = ctx.s.t, ctx.hip_v
    i_to = index_at(t, ctx.flight.takeoff)
    lo = max(index_at(t, ctx.flight.takeoff - 3.0), 1)
    i_pk = lo + int(np.nanargmax(v[lo : i_to + 1]))
    return onset_before(v, t, i_pk, lo), i_pk, lo


def hold_duration(ctx: Context) -> float:
    """How long the hip stayed still near its low level just before pushing off (s)."""
    t, h = ctx.s.t, ctx.hip_h
    t_po, _, lo = push_off(ctx)
    i_po = index_at(t, t_po)
    if i_po <= lo:
        return 0.0
    level = h[i_po]
    band = max(0.025 * ctx.s.body_px, 4 * ctx.s.noise_px)
    i = i_po
    while i > lo and np.isfinite(h[i - 1]) and abs(h[i - 1] - level) <= band:
        i -= 1
    return float(t_po - t[i])


def measure(ctx: Context, jump_height_m: float) -> tuple[dict[str, Measure], dict[str, Measure]]:
    """Squat-jump events and metrics."""
    t, h, v = ctx.s.t, ctx.hip_h, ctx.hip_v
    half = 0.5 / ctx.s.fps
    t_po, i_pk, _ = push_off(ctx)
    i_po = index_at(t, t_po)
    ppm = ctx.ppm
    rel = ctx.ppm_sigma / ppm
    depth = float(-h[min(i_po, len(h) - 1)]) / ppm
    con = ctx.flight.takeoff - t_po
    events = {"push_off_start_s": Measure(t_po, "s", half, "hip velocity onset (8% of peak)")}
    metrics = {
        "squat_depth_m": Measure(
            depth,
            "m",
            abs(depth) * rel + 1 / ppm,
            "hip below standing at push-off; " + ctx.scale_method,
        ),
        "concentric_duration_s": Measure(
            con, "s", half + ctx.flight.takeoff_sigma, "push-off start to takeoff"
        ),
        "peak_concentric_velocity_m_s": Measure(
            float(v[i_pk]) / ppm,
            "m/s",
            abs(v[i_pk]) / ppm * rel,
            "hip, upward; " + ctx.scale_method,
        ),
    }
    return events, metrics
