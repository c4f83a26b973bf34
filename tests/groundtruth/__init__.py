"""Ground-truth jump video generator for kmo tests (sprite from real footage, exact kinematics)."""

from .motion import G, build_motion, snap_time
from .render import Spec, render

__all__ = ["G", "Spec", "build_motion", "render", "snap_time"]
