"""Rebound jump: a landing that runs straight into the next takeoff (repeated jumps, hops).

The ground phase starts with the previous jump's landing, and the athlete does not come to
rest before taking off again; contact time and RSI are those of a drop jump.
"""

from __future__ import annotations

from kinemotion_cli.jumps.common import Measure
from kinemotion_cli.jumps.drop_jump import contact_metrics
from kinemotion_cli.jumps.types import EventSpec, JumpContext, JumpType, MetricSpec


def measure(ctx: JumpContext) -> tuple[dict[str, Measure], dict[str, Measure]]:
    """Rebound events and metrics."""
    ev, me = contact_metrics(ctx)
    events = {
        "contact_start_s": Measure(
            ctx.contact_start, "s", ctx.contact_sigma, "landing of the previous jump"
        ),
        **ev,
    }
    return events, me


TYPE = JumpType(
    name="rebound",
    cli="rj",
    label="Rebound jump",
    starts="landing",
    first_phase="landing",
    events=(
        EventSpec("contact_start_s", "First contact", "ground contact"),
        EventSpec("lowest_point_s", "Lowest point", "ground contact"),
    ),
    metrics=(
        MetricSpec("ground_contact_time_s", "Ground contact time", "contact time"),
        MetricSpec("rsi_height_over_contact", "RSI (height / contact)", "RSI"),
        MetricSpec("rsi_flight_over_contact", "RSI (flight / contact)"),
    ),
    rsi="rsi_flight_over_contact",
    measure=measure,
)
