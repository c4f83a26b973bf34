"""Rebound jump: a landing that runs straight into the next takeoff (repeated jumps, hops).

The ground phase starts with the previous jump's landing, and the athlete does not come to
rest before taking off again; contact time and RSI are those of a drop jump.
"""

from __future__ import annotations

from kinemotion_cli.jumps.common import Measure
from kinemotion_cli.jumps.drop_jump import CONTACT_EVENTS, CONTACT_METRICS, contact_metrics
from kinemotion_cli.jumps.types import JumpContext, JumpType


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
    events=CONTACT_EVENTS,
    metrics=CONTACT_METRICS,
    rsi="rsi_flight_over_contact",
    measure=measure,
)
