"""`kmo compare`: several pose configurations on the same videos, side by side.

Each video is decoded once and every frame is fed to every configuration (backend, model
variant, device, mode). Per configuration: model, devices, load time, inference fps,
estimated end-to-end time, detection rate, foot-landmark jitter during quiet standing, the
jump's times and metrics, and their differences from the first configuration.

Jitter (see the README): in the quiet-standing window, per landmark and per coordinate,
``sigma = RMS(x[i+1] - 2 x[i] + x[i-1]) / sqrt(6)`` (for white noise of std sigma the second
difference has variance 6 sigma^2, while slow sway barely contributes); a landmark's jitter is
``sqrt(sigma_x^2 + sigma_y^2)`` in pixels, and as % of the standing body height.
"""

from __future__ import annotations

import json
import math
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from kinemotion_cli import __version__
from kinemotion_cli.errors import KmoError
from kinemotion_cli.landmarks import FEET_NAMES, INDEX

SCHEMA = "kmo.compare/1"
MEDIAPIPE_VARIANTS = ("lite", "full", "heavy")
RTM_MODES = ("lightweight", "balanced", "performance")
JITTER_LANDMARKS = FEET_NAMES
GROUPS = {
    "ankles": ("left_ankle", "right_ankle"),
    "heels": ("left_heel", "right_heel"),
    "toes": ("left_big_toe", "right_big_toe", "left_small_toe", "right_small_toe"),
}
QUIET_MIN_S = 0.3  # shortest usable quiet-standing window
QUIET_SPEED = 0.15  # body heights per second: slower than this is "still"
QUIET_TRIM_S = 0.05  # dropped at both ends of the window (onset of movement)
# (key, label, unit shown, factor from SI to the unit shown, difference unit, factor)
COMPARED = (
    ("takeoff_s", "takeoff", "s", 1.0, "ms", 1e3),
    ("landing_s", "landing", "s", 1.0, "ms", 1e3),
    ("flight_time_s", "flight time", "s", 1.0, "ms", 1e3),
    ("jump_height_m", "jump height", "cm", 100.0, "cm", 100.0),
    ("ground_contact_time_s", "contact time", "s", 1.0, "ms", 1e3),
    ("rsi", "RSI", "", 1.0, "", 1.0),
)
RSI_OF = {"cmj": "rsi_modified", "drop_jump": "rsi_flight_over_contact"}


# --------------------------------------------------------------------------- configurations


@dataclass(frozen=True)
class Config:
    """One pose configuration: backend, model variant or mode, device."""

    backend: str
    variant: str | None = None  # mediapipe: lite|full|heavy; rtmpose/rtmo: mode
    device: str = "auto"

    @property
    def label(self) -> str:
        name = self.backend + (f":{self.variant}" if self.variant else "")
        return name + (f"@{self.device}" if self.device != "auto" else "")


def _split(text: str | None) -> list[str]:
    return [p.strip() for p in (text or "").split(",") if p.strip()]


def parse_configs(
    backends: str,
    models: str | None = None,
    devices: str | None = None,
    modes: str | None = None,
) -> list[Config]:
    """Configurations from the command line, in order, without duplicates.

    ``backends`` is a comma list of ``name[:variant][@device]``; a plain name is expanded over
    ``models`` (MediaPipe variants), ``modes`` (rtmpose/rtmo sizes) and ``devices``.
    """
    from kinemotion_cli.backends import BACKENDS

    variants = {"mediapipe": _split(models) or ["full"], "rtm": _split(modes) or ["balanced"]}
    devs = _split(devices) or ["auto"]
    for v in variants["mediapipe"]:
        if v not in MEDIAPIPE_VARIANTS:
            raise KmoError(f"--models: unknown MediaPipe model {v!r}; use lite, full or heavy.")
    for v in variants["rtm"]:
        if v not in RTM_MODES:
            raise KmoError(f"--modes: unknown mode {v!r}; use {', '.join(RTM_MODES)}.")
    out: list[Config] = []
    items = _split(backends)
    if not items:
        raise KmoError("--backends: give at least one backend, e.g. mediapipe,rtmpose.")
    for item in items:
        spec, _, dev = item.partition("@")
        name, _, variant = spec.partition(":")
        if name not in BACKENDS or name == "auto":
            raise KmoError(f"--backends: unknown backend {name!r}; use mediapipe, rtmpose, rtmo.")
        allowed = MEDIAPIPE_VARIANTS if name == "mediapipe" else RTM_MODES
        if variant and variant not in allowed:
            raise KmoError(f"--backends: {name} has no model {variant!r} ({', '.join(allowed)}).")
        vs = [variant] if variant else variants["mediapipe" if name == "mediapipe" else "rtm"]
        for v in vs:
            for d in [dev] if dev else devs:
                c = Config(name, v, d)
                if c not in out:
                    out.append(c)
    return out


def backend_options(c: Config, model_dir: str | None, threads: int | None, running_mode: str):
    """BackendOptions for a configuration."""  # noqa: D401
    from kinemotion_cli.backends import BackendOptions

    mp = c.backend == "mediapipe"
    return BackendOptions(
        model=c.variant if mp else None,
        mode=c.variant if not mp and c.variant else "balanced",
        device=c.device,
        model_dir=model_dir,
        running_mode=running_mode,
        threads=threads,
        quiet=True,
        require_device=True,
    )


# --------------------------------------------------------------------------- jitter


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(d == 1).tolist(), np.flatnonzero(d == -1).tolist()))


def body_height_px(landmarks: np.ndarray) -> float:
    """Median head-to-lowest-foot-point distance (pixels); NaN when not visible."""
    foot = [INDEX[n] for n in JITTER_LANDMARKS]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN frames
        head = np.fmin(landmarks[:, INDEX["head"], 1], landmarks[:, INDEX["nose"], 1])
        body = np.nanmax(landmarks[:, foot, 1], axis=1) - head
    return float(np.nanmedian(body)) if np.isfinite(body).any() else float("nan")


def quiet_window(
    t: np.ndarray, landmarks: np.ndarray, until_s: float | None = None
) -> tuple[int, int] | None:
    """Half-open frame range of quiet standing: the longest run (before ``until_s``) where
    the mid-hip and the mean foot point both move slower than 0.15 body heights/s
    (after a 0.05 s median filter), trimmed by 0.05 s at each end; None if shorter than 0.3 s."""
    from kinemotion_cli.jumps.common import stationary

    n = len(t)
    if n < 5:
        return None
    fps = 1.0 / float(np.median(np.diff(t)))
    body = body_height_px(landmarks)
    if not math.isfinite(body) or body <= 10:
        return None
    foot = [INDEX[n] for n in JITTER_LANDMARKS]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        foot_y = np.nanmean(landmarks[:, foot, 1], axis=1)
    hip_y = landmarks[:, INDEX["hip"], 1]
    still = stationary(foot_y, t, body, fps) & stationary(hip_y, t, body, fps)
    if until_s is not None:
        still &= t < until_s
    trim = int(round(QUIET_TRIM_S * fps))
    best = None
    for a, b in _runs(still):
        a, b = a + trim, b - trim
        if b - a >= max(5, QUIET_MIN_S * fps) and (best is None or b - a > best[1] - best[0]):
            best = (a, b)
    return best


def second_diff_sigma(x: np.ndarray) -> float | None:
    """Noise std of a series from its second difference: RMS(d2) / sqrt(6); None if < 3."""
    d2 = x[2:] - 2 * x[1:-1] + x[:-2]
    d2 = d2[np.isfinite(d2)]
    if len(d2) < 3:
        return None
    return float(np.sqrt(np.mean(d2 * d2) / 6.0))


def jitter(landmarks: np.ndarray, window: tuple[int, int], body_px: float) -> dict:
    """Per foot landmark jitter in px and % of body height over ``window`` (see module doc)."""
    a, b = window
    out: dict[str, dict | None] = {}
    for name in JITTER_LANDMARKS:
        seg = landmarks[a:b, INDEX[name], :2]
        sx, sy = second_diff_sigma(seg[:, 0]), second_diff_sigma(seg[:, 1])
        if sx is None or sy is None:
            out[name] = None
            continue
        px = math.hypot(sx, sy)
        out[name] = {"px": px, "pct_body": 100 * px / body_px, "x_px": sx, "y_px": sy}
    return out


def group_jitter(per_landmark: dict) -> dict:
    """Mean jitter of the ankles, heels and toes (px and % body); None where missing."""
    out = {}
    for g, names in GROUPS.items():
        vals = [per_landmark[n] for n in names if per_landmark.get(n)]
        out[g] = (
            {
                "px": float(np.mean([v["px"] for v in vals])),
                "pct_body": float(np.mean([v["pct_body"] for v in vals])),
            }
            if vals
            else None
        )
    return out


# --------------------------------------------------------------------------- results


@dataclass
class Row:
    """Everything measured for one configuration on one video (JSON-ready)."""

    config: Config
    status: str = "ok"  # ok | analysis_failed | unavailable
    error: str | None = None
    info: dict = field(default_factory=dict)
    timing: dict = field(default_factory=dict)
    detection_rate: float | None = None
    quiet: dict | None = None
    jitter: dict | None = None
    jitter_groups: dict | None = None
    jump_type: str | None = None
    values: dict = field(default_factory=dict)  # COMPARED keys, SI units
    metrics: dict = field(default_factory=dict)
    diff: dict = field(default_factory=dict)  # COMPARED keys, difference units
    analysis: object = None  # kinemotion_cli.jumps.JumpResult (not serialised)
    tracked: object = None

    def to_dict(self) -> dict:
        return {
            "label": self.config.label,
            "backend": self.config.backend,
            "variant": self.config.variant,
            "device_requested": self.config.device,
            "status": self.status,
            "error": self.error,
            "model": self.info.get("model"),
            "device_used": self.info.get("device_used"),
            "load_s": _r(self.info.get("load_s")),
            "timing": {k: _r(v) for k, v in self.timing.items()},
            "detection_rate": self.detection_rate,
            "quiet_standing": self.quiet,
            "jitter": _rd(self.jitter),
            "jitter_groups": _rd(self.jitter_groups),
            "jump_type": self.jump_type,
            "values": {k: _r(v) for k, v in self.values.items()},
            "diff_from_first": {k: _r(v) for k, v in self.diff.items()},
            "metrics": {k: _r(v) for k, v in self.metrics.items()},
        }


def _r(x: object, nd: int = 6) -> object:
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        return round(float(x), nd) if math.isfinite(float(x)) else None
    return x


def _rd(d: dict | None) -> dict | None:
    if d is None:
        return None
    return {k: (_rd(v) if isinstance(v, dict) else _r(v)) for k, v in d.items()}


def differences(rows: Sequence[Row]) -> None:
    """Fill each row's ``diff``: its value minus the first row's, in ms, cm or plain units."""
    ref = rows[0].values if rows else {}
    for row in rows:
        row.diff = {}
        for key, *_, dfac in COMPARED:
            a, b = row.values.get(key), ref.get(key)
            if a is not None and b is not None:
                row.diff[key] = (a - b) * dfac
        if row.jitter_groups and rows[0].jitter_groups:
            for g in GROUPS:
                mine, first = row.jitter_groups.get(g), rows[0].jitter_groups.get(g)
                if mine and first:
                    row.diff[f"jitter_{g}_px"] = mine["px"] - first["px"]


def _values(result) -> tuple[dict, dict]:  # noqa: ANN001 - JumpResult
    ev = {k: m.value for k, m in result.events.items()}
    me = {k: m.value for k, m in result.metrics.items()}
    values = {k: ev.get(k, me.get(k)) for k, *_ in COMPARED if k in ev or k in me}
    rsi = RSI_OF.get(result.jump_type)
    if rsi and rsi in me:
        values["rsi"] = me[rsi]
    return values, me


def measure_row(
    row: Row,
    info,  # noqa: ANN001 - VideoInfo
    times: np.ndarray,
    run,  # noqa: ANN001 - PoseRun
    total_s: float,
    decode_s: float,
    jump: str,
    stature_m: float | None,
) -> None:
    """Jumper, jitter and jump analysis of one configuration's pose output."""
    from kinemotion_cli.jumps import analyze
    from kinemotion_cli.pipeline import measured_fps, track

    t0 = time.perf_counter()
    n = len(times)
    row.info = dict(run.backend.info)
    row.timing = {
        "inference_s": run.infer_s,
        "inference_fps": n / run.infer_s if run.infer_s > 0 else None,
    }
    try:
        tracked = track(info, times, run, total_s)
    except KmoError as exc:
        row.status, row.error = "analysis_failed", exc.message
        row.detection_rate = round(sum(1 for p in run.people if p) / max(n, 1), 4)
        return
    row.tracked = tracked
    row.detection_rate = tracked.subject.get("detection_rate")
    try:
        row.analysis = analyze(
            times, tracked.landmarks, measured_fps(times, info.fps), jump=jump, stature_m=stature_m
        )
        row.jump_type = row.analysis.jump_type
        row.values, row.metrics = _values(row.analysis)
    except KmoError as exc:
        row.status, row.error = "analysis_failed", exc.message
    until = row.values.get("takeoff_s")
    window = quiet_window(times, tracked.landmarks, None if until is None else until - 0.3)
    body = body_height_px(tracked.landmarks)
    if window is not None:
        a, b = window
        row.quiet = {
            "start_s": float(times[a]),
            "end_s": float(times[b - 1]),
            "frames": b - a,
            "body_height_px": round(body, 2),
        }
        row.jitter = jitter(tracked.landmarks, window, body)
        row.jitter_groups = group_jitter(row.jitter)
    analysis_s = time.perf_counter() - t0
    row.timing["analysis_s"] = analysis_s
    # As if this configuration ran alone: model load + decoding + its inference + analysis.
    row.timing["end_to_end_s"] = row.info.get("load_s", 0.0) + decode_s + run.infer_s + analysis_s


def compare_video(
    path: str,
    configs: Sequence[Config],
    model_dir: str | None = None,
    threads: int | None = None,
    running_mode: str = "image",
    jump: str = "auto",
    stature_m: float | None = None,
    progress=None,  # noqa: ANN001 - pipeline.ProgressFn
) -> dict:
    """Decode ``path`` once, feed every configuration that loads, measure each one."""
    from kinemotion_cli.backends import create
    from kinemotion_cli.pipeline import run_pose
    from kinemotion_cli.video import probe

    info = probe(path)
    rows = [Row(c) for c in configs]
    live, loaded = [], []
    for row in rows:
        try:
            loaded.append(
                create(
                    row.config.backend,
                    backend_options(row.config, model_dir, threads, running_mode),
                )
            )
            live.append(row)
        except KmoError as exc:
            row.status, row.error = "unavailable", exc.message
        except Exception as exc:  # noqa: BLE001 - a provider or model crash: report, go on
            row.status, row.error = "unavailable", f"{type(exc).__name__}: {str(exc)[:200]}"
    times, total = np.zeros(0), 0.0
    try:
        if loaded:
            times, runs, total = run_pose(path, info, loaded, progress)
            info.frames = len(times)
            decode_s = max(total - sum(r.infer_s for r in runs), 0.0)
            for row, run in zip(live, runs):
                measure_row(row, info, times, run, total, decode_s, jump, stature_m)
    finally:
        for b in loaded:
            b.close()
    differences(rows)
    return {
        "video": str(path),
        "frames": len(times),
        "fps": info.fps,
        "width": info.width,
        "height": info.height,
        "shared_decode_and_inference_s": round(total, 6),
        "rows": rows,
    }


def run_compare(
    videos: Sequence[str],
    configs: Sequence[Config],
    progress_factory=None,  # noqa: ANN001 - callable(video) -> ProgressFn | None
    **kwargs,
) -> list[dict]:
    """Compare every configuration on every video; raises if nothing could run at all."""
    for v in videos:
        if not Path(v).is_file():
            raise KmoError(f"{v}: no such file.")
    out = []
    for v in videos:
        prog = progress_factory(v) if progress_factory else None
        out.append(compare_video(str(v), configs, progress=prog, **kwargs))
    ran = [r for res in out for r in res["rows"] if r.status != "unavailable"]
    if not ran:
        first = out[0]["rows"][0]
        raise KmoError(f"no configuration could run: {first.config.label}: {first.error}")
    return out


# --------------------------------------------------------------------------- output


def to_json(results: Sequence[dict]) -> str:
    """The comparison as one JSON document."""
    doc = {
        "schema": SCHEMA,
        "kmo_version": __version__,
        "videos": [
            {
                **{k: v for k, v in res.items() if k != "rows"},
                "configurations": [r.to_dict() for r in res["rows"]],
            }
            for res in results
        ],
    }
    return json.dumps(doc, indent=1, allow_nan=False)


def _num(x: float | None, fmt: str) -> str:
    return "—" if x is None or not math.isfinite(x) else format(x, fmt)


def _signed(x: float | None, fmt: str) -> str:
    return "" if x is None else f" ({format(x, '+' + fmt)})"


def table_rows(res: dict) -> tuple[list[str], list[list[str]]]:
    """Header (configurations) and rows (quantities) of one video's comparison."""
    rows: list[Row] = res["rows"]
    header = ["", *[r.config.label for r in rows]]
    lines: list[list[str]] = []

    def add(label: str, cells: list[str]) -> None:
        lines.append([label, *cells])

    add(
        "status",
        [
            r.status + (f" [{i + 1}]" if r.error or r.info.get("warnings") else "")
            for i, r in enumerate(rows)
        ],
    )
    add("model", [str(r.info.get("model", "—")) for r in rows])
    add(
        "device requested / used",
        [f"{r.config.device} / {r.info.get('device_used') or '—'}" for r in rows],
    )
    add("model load (s)", [_num(r.info.get("load_s"), ".2f") for r in rows])
    add("inference (fps)", [_num(r.timing.get("inference_fps"), ".1f") for r in rows])
    add("end-to-end (s)", [_num(r.timing.get("end_to_end_s"), ".2f") for r in rows])
    add(
        "detection rate",
        ["—" if r.detection_rate is None else f"{100 * r.detection_rate:.1f} %" for r in rows],
    )
    add(
        "quiet standing (s)",
        [f"{r.quiet['start_s']:.2f}-{r.quiet['end_s']:.2f}" if r.quiet else "—" for r in rows],
    )
    for g in GROUPS:
        cells = []
        for r in rows:
            j = (r.jitter_groups or {}).get(g)
            cells.append(
                f"{j['px']:.2f} px / {j['pct_body']:.3f} %"
                + ("" if r is rows[0] else _signed(r.diff.get(f"jitter_{g}_px"), ".2f"))
                if j
                else "—"
            )
        add(f"jitter {g}", cells)
    add("jump type", [r.jump_type or "—" for r in rows])
    for key, label, unit, fac, dunit, _ in COMPARED:
        if not any(key in r.values for r in rows):
            continue
        fmt = ".3f" if unit in ("", "s") else ".1f"
        dfmt = ".1f" if dunit else ".3f"
        cells = []
        for r in rows:
            v = r.values.get(key)
            cell = "—" if v is None else f"{v * fac:{fmt}} {unit}".rstrip()
            d = r.diff.get(key)
            if d is not None and r is not rows[0]:
                cell += f" ({d:+{dfmt}} {dunit})".replace(" )", ")")
            cells.append(cell)
        add(label if key != "rsi" else f"RSI ({RSI_OF.get(_jt(rows), 'n/a')})", cells)
    return header, lines


def notes(res: dict) -> list[str]:
    """Footnotes ``[i] label: reason`` for failed configurations and backend warnings."""
    out = []
    for i, r in enumerate(res["rows"]):
        for text in ([r.error] if r.error else []) + list(r.info.get("warnings", [])):
            out.append(f"[{i + 1}] {r.config.label}: {text}")
    return out


def _jt(rows: Sequence[Row]) -> str | None:
    return next((r.jump_type for r in rows if r.jump_type), None)


def render(results: Sequence[dict]):  # noqa: ANN201 - rich renderable
    """Rich tables, one per video."""
    from rich.console import Group
    from rich.table import Table

    tables = []
    for res in results:
        header, lines = table_rows(res)
        t = Table(
            title=f"{res['video']} ({res['frames']} frames, decoded once)", title_justify="left"
        )
        for i, h in enumerate(header):
            t.add_column(h, overflow="fold", no_wrap=i == 0)
        for line in lines:
            t.add_row(*line)
        tables.append(t)
        tables += notes(res)
    return Group(*tables)


def to_markdown(results: Sequence[dict]) -> str:
    """The comparison as markdown tables, with the jitter definition."""

    def cell(s: str) -> str:
        return s.replace("|", "\\|")

    out = [f"# kmo compare (kmo {__version__})", ""]
    for res in results:
        header, lines = table_rows(res)
        out += [
            f"## {res['video']}",
            "",
            f"{res['frames']} frames, {res['width']}x{res['height']}, {res['fps']:g} fps; "
            "decoded once and fed to every configuration.",
            "",
            "| " + " | ".join(cell(h) for h in header) + " |",
            "|" + "---|" * len(header),
        ]
        out += ["| " + " | ".join(cell(c) for c in line) + " |" for line in lines]
        out.append("")
        if notes(res):
            out += [*(f"- {n}" for n in notes(res)), ""]
    out += [
        "Differences in brackets are from the first configuration (ms for times, cm for "
        "heights). Jitter: in the quiet-standing window, per landmark and coordinate "
        "sigma = RMS(second difference)/sqrt(6); a landmark's jitter is sqrt(sigma_x^2 + "
        "sigma_y^2), in px and as % of the standing body height; the group value is the mean "
        "over its landmarks (toes: big and small). End-to-end time is estimated as if the "
        "configuration ran alone: model load + shared decoding + its inference + analysis.",
        "",
    ]
    return "\n".join(out)


COLORS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown")


def write_plot(results: Sequence[dict], path: Path, force: bool = False) -> None:
    """Foot and hip trajectories of every configuration overlaid, events marked (one row of
    two panels per video). PNG, SVG or PDF by suffix; matplotlib Agg, imported here."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from kinemotion_cli.outputs import atomic_path

    fig = Figure(figsize=(12, 3.6 * len(results)), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(results), 2, squeeze=False)
    for (ax_f, ax_h), res in zip(axes, results):
        for k, row in enumerate(res["rows"]):
            color = COLORS[k % len(COLORS)]
            tr = row.tracked
            if tr is None:
                continue
            if row.analysis is not None and row.analysis.signals is not None:
                s = row.analysis.signals
                t, foot, hip = s.t, s.foot_y, s.hip_y
            else:
                foot_idx = [INDEX[n] for n in JITTER_LANDMARKS]
                t = tr.times
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    foot = np.nanmean(tr.landmarks[:, foot_idx, 1], axis=1)
                hip = tr.landmarks[:, INDEX["hip"], 1]
            for ax, y in ((ax_f, foot), (ax_h, hip)):
                ref = np.nanmedian(y[: max(3, len(y) // 10)])
                ax.plot(t, ref - y, lw=1.2, color=color, label=row.config.label)
            if row.analysis is not None:
                for name, m in row.analysis.events.items():
                    for ax in (ax_f, ax_h):
                        ax.axvline(m.value, color=color, lw=0.8, ls=":")
                    ax_f.annotate(
                        name.removesuffix("_s"),
                        (m.value, 1.0),
                        xycoords=("data", "axes fraction"),
                        rotation=90,
                        va="top",
                        ha="right",
                        fontsize=7,
                        color=color,
                    )
        name = Path(res["video"]).name
        ax_f.set_title(f"{name}: mean foot point", fontsize=10)
        ax_h.set_title(f"{name}: mid-hip", fontsize=10)
        for ax in (ax_f, ax_h):
            ax.set_ylabel("height above start (px)")
            ax.set_xlabel("time from video start (s)")
            ax.axhline(0, color="gray", lw=0.6)
        ax_f.legend(loc="upper left", fontsize=7)
    path = Path(path)
    fmt = {".svg": "svg", ".pdf": "pdf"}.get(path.suffix.lower(), "png")
    with atomic_path(path, force) as tmp:
        fig.savefig(tmp, format=fmt)
