"""Countermovement jump: movement start, lowest point, phases, RSI-modified."""

from __future__ import annotations

import numpy as np

from kinemotion_cli.jumps.common import Context, Measure, index_at, onset_before, vertex_time

NAME = "cmj"


def _arg(fn, x: np.ndarray, default: int) -> int:  # noqa: ANN001
    """``fn`` (nanargmin/nanargmax) of ``x``, or ``default`` when ``x`` has no finite value."""
    return int(fn(x)) if np.isfinite(x).any() else default


def measure(ctx: Context, jump_height_m: float) -> tuple[dict[str, Measure], dict[str, Measure]]:
    """CMJ events and metrics from the hip trajectory before takeoff."""
    s, h, v = ctx.s, ctx.hip_h, ctx.hip_v
    t = s.t
    half = 0.5 / s.fps
    i_to = index_at(t, ctx.flight.takeoff)
    lo = max(index_at(t, ctx.flight.takeoff - 3.0), 1)
    window = slice(lo, i_to)
    i_low = lo + _arg(np.nanargmin, h[window], i_to - 1 - lo)
    t_low = vertex_time(t, h, i_low)
    i_pk_down = lo + _arg(np.nanargmin, v[lo : i_low + 1], i_low - lo)
    t_ms = onset_before(v, t, i_pk_down, lo)
    # The sub-frame vertex may land a fraction of a frame outside its phase: keep the order.
    t_low = min(max(t_low, t_ms), ctx.flight.takeoff)
    i_pk_up = i_low + _arg(np.nanargmax, v[i_low : i_to + 1], 0)
    ppm = ctx.ppm
    depth = float(-h[i_low]) / ppm
    ecc, con, ttt = t_low - t_ms, ctx.flight.takeoff - t_low, ctx.flight.takeoff - t_ms
    sd_to = ctx.flight.takeoff_sigma
    rel = ctx.ppm_sigma / ppm
    events = {
        "movement_start_s": Measure(t_ms, "s", half, "hip velocity onset (8% of peak downward)"),
        "lowest_point_s": Measure(t_low, "s", half, "hip minimum (sub-frame vertex)"),
    }
    metrics = {
        "countermovement_depth_m": Measure(
            depth, "m", abs(depth) * rel + 1 / ppm, "hip drop; " + ctx.scale_method
        ),
        "eccentric_duration_s": Measure(ecc, "s", 2 * half, "movement start to lowest point"),
        "concentric_duration_s": Measure(con, "s", half + sd_to, "lowest point to takeoff"),
        "time_to_takeoff_s": Measure(ttt, "s", half + sd_to, "movement start to takeoff"),
        "rsi_modified": Measure(
            jump_height_m / ttt if ttt > 0 else float("nan"),
            "m/s",
            None,
            "jump height / time to takeoff",
        ),
        "peak_eccentric_velocity_m_s": Measure(
            float(v[i_pk_down]) / ppm,
            "m/s",
            abs(v[i_pk_down]) / ppm * rel,
            "hip, negative = downward; " + ctx.scale_method,
        ),
        "peak_concentric_velocity_m_s": Measure(
            float(v[i_pk_up]) / ppm,
            "m/s",
            abs(v[i_pk_up]) / ppm * rel,
            "hip, upward; " + ctx.scale_method,
        ),
    }
    return events, metrics
