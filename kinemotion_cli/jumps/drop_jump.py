"""Drop jump: leaving the box, first contact, takeoff, landing; contact time and RSI."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kinemotion_cli.jumps.common import (
    Context,
    G,
    Measure,
    Signals,
    fit_parabola,
    threshold_px,
)

NAME = "drop_jump"


@dataclass
class Drop:
    """The fall from the box onto the floor."""

    leave: float
    leave_sigma: float
    contact: float
    contact_sigma: float
    box_px: float


def find_drop(
    s: Signals, elevated: tuple[int, int], floor: float, ppm: float | None
) -> Drop | None:
    """Fit the free fall that ends an elevated (on-the-box) phase."""
    e0, e1 = elevated
    thr = threshold_px(s)
    y, t = s.foot_y[e0:e1], s.t[e0:e1]
    box = float(np.nanmedian(y[: max(3, int(0.3 * s.fps))]))
    falling = np.isfinite(y) & (y > box + thr)
    if floor - box < 2 * thr:
        return None
    # The feet fall freely: with a known scale the curvature is fixed (a = ppm g / 2), which
    # pins the moment of leaving the box far better than a free fit of a few frames.
    fit = fit_parabola(t[falling], y[falling], a_fixed=ppm * G / 2 if ppm else None)
    if fit is None or fit.a <= 0:
        return None
    roots = fit.roots(floor)
    if roots is None:
        return None
    contact = roots[1]
    at_box = fit.roots(box)
    leave = at_box[0] if at_box is not None else fit.vertex()
    leave = min(leave, contact)
    sig_c = fit.time_sigma(contact, s.noise_px)
    sig_l = fit.time_sigma(leave, s.noise_px) if at_box is not None else 0.5 / s.fps
    sig_l = min(sig_l, 0.5 / s.fps + float(np.sqrt(fit.cov[1, 1]) / (2 * fit.a)))
    return Drop(leave, sig_l, contact, sig_c, floor - box)


def measure(
    ctx: Context, jump_height_m: float, drop: Drop
) -> tuple[dict[str, Measure], dict[str, Measure]]:
    """Drop-jump events and metrics."""
    fl = ctx.flight
    gct = fl.takeoff - drop.contact
    gct_sd = float(np.hypot(fl.takeoff_sigma, drop.contact_sigma))
    fall = drop.contact - drop.leave
    events = {
        "box_leave_s": Measure(drop.leave, "s", drop.leave_sigma, "vertex of the fall parabola"),
        "contact_start_s": Measure(
            drop.contact, "s", drop.contact_sigma, "fall parabola meets the floor"
        ),
    }
    box_m = drop.box_px / ctx.ppm
    rsi = jump_height_m / gct if gct > 0 else float("nan")
    rsi_ft = fl.duration / gct if gct > 0 else float("nan")
    metrics = {
        "ground_contact_time_s": Measure(gct, "s", gct_sd, "first contact to takeoff"),
        "rsi_height_over_contact": Measure(rsi, "m/s", None, "jump height / ground contact time"),
        "rsi_flight_over_contact": Measure(rsi_ft, "", None, "flight time / ground contact time"),
        "fall_time_s": Measure(
            fall,
            "s",
            float(np.hypot(drop.leave_sigma, drop.contact_sigma)),
            "leaving the box to first contact",
        ),
        "drop_height_m": Measure(
            box_m,
            "m",
            box_m * ctx.ppm_sigma / ctx.ppm + 1 / ctx.ppm,
            "feet on the box above the floor; " + ctx.scale_method,
        ),
    }
    return events, metrics
