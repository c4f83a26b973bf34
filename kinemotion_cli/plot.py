"""Trajectory plot: foot and hip heights, their velocities, phases, events, flight parabolas.

Uses matplotlib's object API with the Agg canvas (no pyplot, no global backend switch), and is
imported only when ``--plot`` is given. Heights are in metres at each jump's scale, measured
after camera motion was removed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from kinemotion_cli.jumps import phase_spans, timeline
from kinemotion_cli.outputs import atomic_path
from kinemotion_cli.overlay import PHASE_COLORS
from kinemotion_cli.pipeline import Measured
from kinemotion_cli.report import labels

FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}
SIZE_IN, DPI = (10.0, 7.0), 100  # 1000 x 700 px PNG


def _velocity(t: np.ndarray, y: np.ndarray) -> np.ndarray:
    ok = np.isfinite(y)
    if ok.sum() < 3:
        return np.full_like(y, np.nan)
    v = np.gradient(np.interp(t, t[ok], y[ok]), t)
    v[~ok] = np.nan
    return v


def write_plot(m: Measured, path: Path, force: bool = False) -> None:
    """Write the trajectory figure to ``path`` (PNG, SVG or PDF by suffix) atomically."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    a = m.analysis
    body = a.body
    t = body.t
    first = a.jumps[0]
    ppm = float(first.scale.pixels_per_m)
    # clearance of the lowest foot point, each point above its own planted level
    levels = {c.point: c.level for c in first.flight.takeoff_contacts}
    clearance = np.stack([lv - body.y[:, k] for k, lv in levels.items()], axis=1)
    foot = np.nanmin(clearance, axis=1) / ppm
    hip = a.hip_h / ppm
    spans = phase_spans(a, float(t[0]), float(t[-1]))
    ev_label, _ = labels()

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
    ax.plot(t, foot, ".-", ms=3, lw=1, color="tab:red", label="lowest foot point above its level")
    ax.plot(t, hip, "-", lw=1.5, color="tab:blue", label="hip height change")
    trunk_ref = float(np.nanmedian(body.trunk_y[: max(3, len(t) // 10)]))
    for k, j in enumerate(a.jumps):
        fl = j.flight
        if fl.trunk is None:
            continue
        tf = np.linspace(fl.takeoff, fl.landing, 100)
        ax.plot(
            tf,
            (trunk_ref - fl.trunk(tf)) / ppm,
            "--",
            lw=1.5,
            color="black",
            label="trunk flight parabola" if k == 0 else None,
        )
    ax.axhline(0, color="gray", lw=0.8)
    ax.set_ylabel("height (m)")
    heights = ", ".join(f"{1000 * j.flight.duration:.0f} ms" for j in a.jumps)
    ax.set_title(
        f"{Path(m.video.path).name}: {len(a.jumps)} jump(s), flight {heights} "
        f"({first.scale.method})",
        fontsize=10,
    )
    axv.plot(t, _velocity(t, foot), "-", lw=1, color="tab:red", label="foot velocity")
    axv.plot(t, _velocity(t, hip), "-", lw=1.5, color="tab:blue", label="hip velocity")
    axv.axhline(0, color="gray", lw=0.8)
    axv.set_ylabel("velocity (m/s)")
    axv.set_xlabel("time from video start (s)")
    ymax = ax.get_ylim()[1]
    for te, key, j in timeline(a):
        for axis in (ax, axv):
            axis.axvline(te, color="black", lw=0.8, ls=":")
        tag = f" #{j.index}" if len(a.jumps) > 1 else ""
        ax.text(
            te,
            ymax,
            f" {ev_label.get(key, key)}{tag} {te:.4f} s",
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
