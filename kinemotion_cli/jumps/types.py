"""What a jump type declares about itself, and the context its ``measure`` function gets.

Report, overlay, plot and compare read these declarations (labels, phases, events, metrics)
instead of hard-coding them; :mod:`kinemotion_cli.jumps` dispatches through the registry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from kinemotion_cli.jumps.body import Body
from kinemotion_cli.jumps.common import Measure
from kinemotion_cli.jumps.flight import Drop, Flight


@dataclass(frozen=True)
class EventSpec:
    """An event a jump type reports: JSON key, label, and the phase that begins there."""

    key: str
    label: str
    phase_after: str


@dataclass(frozen=True)
class MetricSpec:
    """A metric a jump type reports: JSON key, human label (with unit in the table), short
    label for the overlay (None: not shown there)."""

    key: str
    label: str
    short: str | None = None


@dataclass(frozen=True)
class Scale:
    """Pixels per metre at the athlete, and how it was obtained."""

    pixels_per_m: float
    uncertainty: float
    method: str


@dataclass(frozen=True)
class JumpContext:
    """Everything a jump type's ``measure`` needs about one jump."""

    body: Body
    flight: Flight
    start: int  # first frame of this jump's ground phase (after the previous flight)
    rest: tuple[int, int] | None  # the last still period of the trunk before takeoff
    contact_start: float | None  # first contact of the ground phase (drop jump, rebound)
    contact_sigma: float | None
    drop: Drop | None
    hip_h: np.ndarray  # hip height (px, up positive) above its level during ``rest``
    hip_v: np.ndarray  # its velocity (px/s)
    scale: Scale
    jump_height_m: float


MeasureFn = Callable[[JumpContext], tuple[dict[str, Measure], dict[str, Measure]]]


@dataclass(frozen=True)
class JumpType:
    """A jump type: its names, how it starts, its events, phases and metrics."""

    name: str  # JSON jump_type
    cli: str  # --jump value
    label: str
    starts: str  # "standing", "box" or "landing": the ground phase before the flight
    first_phase: str  # the phase shown before the first event
    events: tuple[EventSpec, ...]  # its own events, in time order (takeoff/landing are shared)
    metrics: tuple[MetricSpec, ...]  # its own metrics (flight time and height are shared)
    rsi: str | None  # the metric shown as "RSI" where one RSI is shown
    measure: MeasureFn


COMMON_EVENTS = (
    EventSpec("takeoff_s", "Takeoff", "flight"),
    EventSpec("landing_s", "Landing", "landing"),
)
COMMON_METRICS = (
    MetricSpec("flight_time_s", "Flight time", "flight time"),
    MetricSpec("jump_height_m", "Jump height", "jump height"),
)
