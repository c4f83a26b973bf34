"""Trajectory plot: foot and hip height, their velocities, phases, events and the flight fit.

Uses matplotlib's object API with the Agg canvas (no pyplot, no global backend switch), and is
imported only when ``--plot`` is given.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from kinemotion_cli.outputs import atomic_path
from kinemotion_cli.overlay import EVENT_NAMES, PHASE_COLORS, event_times, phase_spans
from kinemotion_cli.pipeline import Analysis

FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}
SIZE_IN, DPI = (10.0, 7.0), 100  # 1000 x 700 px PNG


def _velocity(t: np.ndarray, y: np.ndarray) -> np.ndarray:
    ok = np.isfinite(y)
    if ok.sum() < 3:
        return np.full_like(y, np.nan)
    v = np.gradient(np.interp(t, t[ok], y[ok]), t)
    v[~ok] = np.nan
    return v


def write_plot(a: Analysis, path: Path, force: bool = False) -> None:
    """Write the trajectory figure to ``path`` (PNG, SVG or PDF by suffix) atomically."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    r = a.result
    s, fl = r.signals, r.flight
    ppm = float(r.scale["pixels_per_m"])
    t = s.t
    floor = fl.floor_pre
    foot = (floor - s.foot_y) / ppm
    hip = (r.hip_h if r.hip_h is not None else np.full_like(t, np.nan)) / ppm
    events = event_times(a)
    spans = phase_spans(r.jump_type, events, float(t[0]), float(t[-1]))

    fig = Figure(figsize=SIZE_IN, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    ax, axv = fig.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    shown: set[str] = set()
    for a0, a1, name in spans:
        color = np.array(PHASE_COLORS.get(name, (200, 200, 200))) / 255
        for axis in (ax, axv):
            axis.axvspan(a0, a1, color=color, alpha=0.15, lw=0)
        if name not in shown:  # legend entry once per phase
            ax.axvspan(a0, a0, color=color, alpha=0.3, label=name)
            shown.add(name)

    ax.plot(t, foot, ".-", ms=3, lw=1, color="tab:red", label="foot height above floor")
    ax.plot(t, hip, "-", lw=1.5, color="tab:blue", label="hip height change")
    tf = np.linspace(fl.takeoff - 0.02, fl.landing + 0.02, 200)
    ax.plot(tf, (floor - fl.fit(tf)) / ppm, "--", lw=1.5, color="black", label="flight parabola")
    ax.axhline(0, color="gray", lw=0.8)
    ax.set_ylabel("height (m)")
    scale = r.scale.get("method", "")
    ax.set_title(
        f"{Path(a.tracked.info.path).name}: {r.jump_type.replace('_', ' ')}, "
        f"flight {1000 * fl.duration:.1f} ms ({scale})",
        fontsize=10,
    )

    axv.plot(t, _velocity(t, foot), "-", lw=1, color="tab:red", label="foot velocity")
    axv.plot(t, _velocity(t, hip), "-", lw=1.5, color="tab:blue", label="hip velocity")
    axv.plot(tf, -(2 * fl.fit.a * (tf - fl.fit.t0) + fl.fit.b) / ppm, "--", lw=1, color="black")
    axv.axhline(0, color="gray", lw=0.8)
    axv.set_ylabel("velocity (m/s)")
    axv.set_xlabel("time from video start (s)")

    ymax = ax.get_ylim()[1]
    for k, te in events.items():
        for axis in (ax, axv):
            axis.axvline(te, color="black", lw=0.8, ls=":")
        ax.text(
            te,
            ymax,
            f" {EVENT_NAMES.get(k, k)} {te:.4f} s",
            rotation=90,
            va="top",
            ha="right",
            fontsize=8,
        )
    ax.legend(loc="upper left", fontsize=7, ncol=2)
    axv.legend(loc="upper left", fontsize=7)
    ax.set_xlim(float(t[0]), float(t[-1]))

    path = Path(path)
    fmt = FORMATS.get(path.suffix.lower(), "png")
    with atomic_path(path, force) as tmp:
        fig.savefig(tmp, format=fmt, dpi=DPI)
