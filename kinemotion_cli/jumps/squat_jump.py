"""Squat jump: from a held squat straight up, without a countermovement: push-off start."""

from __future__ import annotations

import numpy as np

from kinemotion_cli.jumps.common import Measure, index_at, missing, nan_arg, onset_before
from kinemotion_cli.jumps.types import EventSpec, JumpContext, JumpType, MetricSpec


def measure(ctx: JumpContext) -> tuple[dict[str, Measure], dict[str, Measure]]:
    """Squat-jump events and metrics (``ctx.rest`` is the held squat)."""
    t, v = ctx.body.t, ctx.hip_v
    half = 0.5 / ctx.body.fps
    fl = ctx.flight
    i_to = index_at(t, fl.takeoff)
    lo = ctx.rest[0] if ctx.rest else ctx.start
    i_pk = lo + nan_arg(np.nanargmax, v[lo : i_to + 1], 0)
    t_po = onset_before(v, t, i_pk, lo)
    ppm, rel = ctx.scale.pixels_per_m, ctx.scale.uncertainty / ctx.scale.pixels_per_m
    method = "; " + ctx.scale.method
    standing = _standing_above(ctx)
    if standing is None:
        depth = missing("m", "no standing still before the squat in view")
    else:
        d = float(standing) / ppm
        depth = Measure(d, "m", abs(d) * rel + 1 / ppm, "hip below standing in the hold" + method)
    events = {"push_off_start_s": Measure(t_po, "s", half, "hip velocity onset (8% of peak)")}
    metrics = {
        "squat_depth_m": depth,
        "concentric_duration_s": Measure(
            fl.takeoff - t_po, "s", half + fl.takeoff_sigma, "push-off start to takeoff"
        ),
        "peak_concentric_velocity_m_s": Measure(
            float(v[i_pk]) / ppm, "m/s", abs(v[i_pk]) / ppm * rel, "hip, upward" + method
        ),
    }
    return events, metrics


def _standing_above(ctx: JumpContext) -> float | None:
    """How far (px) the hip stood above the held squat, from the standing before it."""
    if ctx.rest is None:
        return None
    lo, hi = ctx.start, ctx.rest[0]
    h = ctx.hip_h[lo:hi]
    if not np.isfinite(h).any():
        return None
    top = float(np.nanmax(h))
    band = max(0.05 * ctx.body.body_px, 6 * ctx.body.noise_px)
    if top < band:  # no standing posture clearly above the hold in view
        return None
    return top


TYPE = JumpType(
    name="squat_jump",
    cli="sj",
    label="Squat jump",
    starts="standing",
    first_phase="squat hold",
    events=(EventSpec("push_off_start_s", "Push-off start", "propulsion"),),
    metrics=(
        MetricSpec("squat_depth_m", "Squat depth", "squat depth"),
        MetricSpec("concentric_duration_s", "Concentric duration"),
        MetricSpec("peak_concentric_velocity_m_s", "Peak concentric velocity"),
    ),
    rsi=None,
    measure=measure,
)
