"""Drop jump: a ballistic fall from a box, ground contact, then the jump: contact time, RSI."""

from __future__ import annotations

import numpy as np

from kinemotion_cli.jumps.common import G, Measure, index_at, missing, nan_arg, ratio, vertex_time
from kinemotion_cli.jumps.types import EventSpec, JumpContext, JumpType, MetricSpec

#: What every jump that starts with a ground contact (from a box or a landing) reports.
CONTACT_EVENTS = (
    EventSpec("contact_start_s", "First contact", "ground contact"),
    EventSpec("lowest_point_s", "Lowest point", "ground contact"),
)
CONTACT_METRICS = (
    MetricSpec("ground_contact_time_s", "Ground contact time", "contact time"),
    MetricSpec("rsi_height_over_contact", "RSI (height / contact)", "RSI"),
    MetricSpec("rsi_flight_over_contact", "RSI (flight / contact)"),
)


def contact_metrics(ctx: JumpContext) -> tuple[dict[str, Measure], dict[str, Measure]]:
    """Lowest point, contact time and the two RSIs of a jump that starts with a contact
    (a landing from a box or from a previous jump)."""
    t, h, fl = ctx.body.t, ctx.hip_h, ctx.flight
    half = 0.5 / ctx.body.fps
    i_c, i_to = index_at(t, ctx.contact_start), index_at(t, fl.takeoff)
    i_low = i_c + nan_arg(np.nanargmin, h[i_c:i_to], max(i_to - 1 - i_c, 0))
    t_low = min(max(vertex_time(t, h, i_low), ctx.contact_start), fl.takeoff)
    gct = Measure(
        fl.takeoff - ctx.contact_start,
        "s",
        float(np.hypot(fl.takeoff_sigma, ctx.contact_sigma or 0.0)),
        "first contact to takeoff",
    )
    flight = Measure(fl.duration, "s", fl.duration_sigma, "")
    height = Measure(ctx.jump_height_m, "m", G * fl.duration / 4 * fl.duration_sigma, "")
    events = {"lowest_point_s": Measure(t_low, "s", half, "hip minimum in contact")}
    metrics = {
        "ground_contact_time_s": gct,
        "rsi_height_over_contact": ratio(height, gct, "m/s", "jump height / ground contact time"),
        "rsi_flight_over_contact": ratio(flight, gct, "", "flight time / ground contact time"),
    }
    return events, metrics


def measure(ctx: JumpContext) -> tuple[dict[str, Measure], dict[str, Measure]]:
    """Drop-jump events and metrics."""
    d = ctx.drop
    ev, me = contact_metrics(ctx)
    scale = ctx.scale
    out_of_view = "the clip starts during the fall: leaving the box is not in view"
    contact = Measure(d.contact, "s", d.contact_sigma, "first foot point reaches the floor")
    box_m = d.height_px / scale.pixels_per_m if d.height_px is not None else None
    height = Measure(
        box_m,
        "m",
        None
        if box_m is None
        else box_m * scale.uncertainty / scale.pixels_per_m + 1 / scale.pixels_per_m,
        "feet on the box above the floor; " + scale.method,
    )
    if d.unseen:
        why = "the fall was not seen: the pose model lost the athlete between box and floor"
        contact = Measure(
            d.contact,
            "s",
            d.contact_sigma,
            "between last frame on the box + fall time and first on the floor",
        )
        events = {"box_leave_s": missing("s", why), "contact_start_s": contact, **ev}
        me["fall_time_s"] = missing("s", why)
        me["drop_height_m"] = height
        return events, me
    if d.leave is None:
        events = {"box_leave_s": missing("s", out_of_view), "contact_start_s": contact, **ev}
        me["fall_time_s"] = missing("s", out_of_view)
        me["drop_height_m"] = missing("m", out_of_view)
        return events, me
    events = {
        "box_leave_s": Measure(d.leave, "s", d.leave_sigma, "last foot point leaves the box"),
        "contact_start_s": contact,
        **ev,
    }
    me["fall_time_s"] = Measure(
        d.contact - d.leave,
        "s",
        float(np.hypot(d.leave_sigma, d.contact_sigma)),
        "leaving the box to first contact",
    )
    me["drop_height_m"] = height
    return events, me


TYPE = JumpType(
    name="drop_jump",
    cli="dj",
    label="Drop jump",
    starts="box",
    first_phase="on box",
    events=(EventSpec("box_leave_s", "Leaves box", "drop"), *CONTACT_EVENTS),
    metrics=(
        *CONTACT_METRICS,
        MetricSpec("fall_time_s", "Fall time"),
        MetricSpec("drop_height_m", "Drop height"),
    ),
    rsi="rsi_flight_over_contact",
    measure=measure,
)
