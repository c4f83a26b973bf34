"""`kmo compare`: several pose configurations on the same videos, side by side.

Compare is "run the pipeline with N configurations, then diff": each video is decoded once
by :func:`kinemotion_cli.pipeline.run` and every frame goes to every configuration. Per
configuration: model, devices, load time, inference fps, estimated end-to-end time,
detection rate, foot-landmark jitter during quiet standing (the definition of
:mod:`kinemotion_cli.quality`, shared with the report), every jump's times and metrics, and
their differences from the first configuration.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from kinemotion_cli import __version__
from kinemotion_cli.errors import KmoError
from kinemotion_cli.landmarks import FEET_NAMES, INDEX
from kinemotion_cli.quality import JITTER_GROUPS

SCHEMA = "kmo.compare/2"
MEDIAPIPE_VARIANTS = ("lite", "full", "heavy")
RTM_MODES = ("lightweight", "balanced", "performance")
JITTER_LANDMARKS = FEET_NAMES
GROUPS = JITTER_GROUPS
MATCH_S = 0.25  # jumps of two configurations are the same when their takeoffs are this close
# (key, label, unit shown, factor from SI to the unit shown, difference unit, factor)
COMPARED = (
    ("takeoff_s", "takeoff", "s", 1.0, "ms", 1e3),
    ("landing_s", "landing", "s", 1.0, "ms", 1e3),
    ("flight_time_s", "flight time", "s", 1.0, "ms", 1e3),
    ("jump_height_m", "jump height", "cm", 100.0, "cm", 100.0),
    ("ground_contact_time_s", "contact time", "s", 1.0, "ms", 1e3),
    ("rsi", "RSI", "", 1.0, "", 1.0),
)


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


def spec_of(c: Config, model_dir: str | None, threads: int | None):
    """The pipeline's :class:`PoseSpec` for a configuration (strict about devices; every
    frame inferred, so that speed and jitter compare frame for frame)."""
    from kinemotion_cli.backends import BACKENDS, BackendOptions
    from kinemotion_cli.pipeline import PoseSpec

    spec = BACKENDS[c.backend]
    by_model = spec.variant_kind == "model"
    return PoseSpec(
        c.backend,
        BackendOptions(
            model=c.variant if by_model else None,
            mode=c.variant if not by_model and c.variant else spec.default_variant,
            device=c.device,
            model_dir=model_dir,
            threads=threads,
            quiet=True,
            require_device=True,
            dense=True,
        ),
    )


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
    jumps: list[dict] = field(default_factory=list)  # per jump: jump_type, values, metrics
    diff: list[dict] = field(default_factory=list)  # per jump: COMPARED keys, diff units
    jitter_diff: dict = field(default_factory=dict)
    measured: object = None  # kinemotion_cli.pipeline.Measured (not serialised)

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
            "jitter_diff_from_first_px": _rd(self.jitter_diff),
            "jumps": [
                {
                    "index": j["index"],
                    "jump_type": j["jump_type"],
                    "values": {k: _r(v) for k, v in j["values"].items()},
                    "diff_from_first": {k: _r(v) for k, v in d.items()},
                    "metrics": {k: _r(v) for k, v in j["metrics"].items()},
                }
                for j, d in zip(self.jumps, self.diff or [{}] * len(self.jumps))
            ],
        }


def _r(x: object, nd: int = 6) -> object:
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        return round(float(x), nd) if math.isfinite(float(x)) else None
    return x


def _rd(d: dict | None) -> dict | None:
    if d is None:
        return None
    return {k: (_rd(v) if isinstance(v, dict) else _r(v)) for k, v in d.items()}


def rsi_key(jump_type: str | None) -> str | None:
    """The RSI a jump type reports (from its declaration)."""
    from kinemotion_cli.jumps import JUMP_TYPES

    jt = JUMP_TYPES.get(jump_type or "")
    return jt.rsi if jt else None


def jump_values(j) -> dict:  # noqa: ANN001 - kinemotion_cli.jumps.Jump
    """A jump's compared values (SI units) and all its metrics."""
    ev = {k: m.value for k, m in j.events.items() if m.ok}
    me = {k: m.value for k, m in j.metrics.items() if m.ok}
    values = {k: ev.get(k, me.get(k)) for k, *_ in COMPARED if k in ev or k in me}
    rsi = rsi_key(j.jump_type)
    if rsi and rsi in me:
        values["rsi"] = me[rsi]
    return {"index": j.index, "jump_type": j.jump_type, "values": values, "metrics": me}


def differences(rows: Sequence[Row]) -> None:
    """Fill each row's ``diff``: per jump, its value minus the first row's same jump (the
    one with the nearest takeoff), in ms, cm or plain units."""
    ref = rows[0].jumps if rows else []
    for row in rows:
        row.diff = []
        for j in row.jumps:
            to = j["values"].get("takeoff_s")
            match = min(
                (r for r in ref if r["values"].get("takeoff_s") is not None and to is not None),
                key=lambda r: abs(r["values"]["takeoff_s"] - to),
                default=None,
            )
            d = {}
            if match is not None and abs(match["values"]["takeoff_s"] - to) <= MATCH_S:
                for key, *_, dfac in COMPARED:
                    a, b = j["values"].get(key), match["values"].get(key)
                    if a is not None and b is not None:
                        d[key] = (a - b) * dfac
            row.diff.append(d)
        row.jitter_diff = {}
        if row.jitter_groups and rows[0].jitter_groups:
            for g in GROUPS:
                mine, first = row.jitter_groups.get(g), rows[0].jitter_groups.get(g)
                if mine and first:
                    row.jitter_diff[g] = mine["px"] - first["px"]


def row_of(config: Config, m) -> Row:  # noqa: ANN001 - kinemotion_cli.pipeline.Measured
    """A configuration's row from what the pipeline measured with it."""
    from kinemotion_cli.quality import measure_jitter

    row = Row(config, measured=m)
    run = m.run
    if run.status != "ok":
        row.status, row.error = "unavailable", run.error
        return row
    n = len(m.decode.times)
    row.info = dict(run.info)
    row.timing = {
        "inference_s": run.infer_s,
        "inference_fps": n / run.infer_s if run.infer_s > 0 else None,
        "analysis_s": m.timing["analysis_s"],
    }
    if m.track is None:
        row.status, row.error = "analysis_failed", m.error.message if m.error else None
        row.detection_rate = round(sum(1 for p in run.people if p) / max(n, 1), 4)
        return row
    row.detection_rate = round(m.track.detection_rate, 4)
    if m.analysis is not None:
        row.jumps = [jump_values(j) for j in m.analysis.jumps]
    if m.error is not None:
        row.status, row.error = "analysis_failed", m.error.message
    first = row.jumps[0]["values"].get("takeoff_s") if row.jumps else None
    jit = (
        m.quality.foot_jitter
        if m.quality is not None
        else measure_jitter(m.track, None if first is None else first - 0.3)
    )
    if jit is not None:
        row.quiet = {
            "start_s": jit.start_s,
            "end_s": jit.end_s,
            "frames": jit.window[1] - jit.window[0],
            "body_height_px": round(jit.body_height_px, 2),
        }
        row.jitter, row.jitter_groups = jit.per_landmark, jit.groups
    return row


def _infer_wall(m) -> float:  # noqa: ANN001 - pipeline.Measured
    """Seconds of inference on the clock: the inference time is summed over the threads of a
    configuration's pool, which ran side by side."""
    return m.run.infer_s / max(1, int(m.timing.get("inference_threads") or 1))


def compare_video(
    path: str,
    configs: Sequence[Config],
    model_dir: str | None = None,
    threads: int | None = None,
    jump: str = "auto",
    stature_m: float | None = None,
    progress=None,  # noqa: ANN001 - pipeline.ProgressFn
) -> dict:
    """Run the pipeline once with every configuration on ``path`` and compare them."""
    from kinemotion_cli.pipeline import run

    specs = [spec_of(c, model_dir, threads) for c in configs]
    measured = run(path, specs, jump, stature_m, progress, keep_going=True)
    rows = [row_of(c, m) for c, m in zip(configs, measured)]
    m0 = measured[0]
    total = m0.timing["total_s"] - m0.timing["analysis_s"]
    decode_s = max(total - sum(_infer_wall(m) for m in measured), 0.0)
    for row, m in zip(rows, measured):
        if row.status != "unavailable":
            # As if this configuration ran alone: model load + decoding + its inference +
            # its analysis.
            row.timing["end_to_end_s"] = (
                m.run.load_s + decode_s + _infer_wall(m) + m.timing["analysis_s"]
            )
    differences(rows)
    return {
        "video": str(path),
        "frames": len(m0.decode.times),
        "fps": m0.video.fps,
        "width": m0.video.width,
        "height": m0.video.height,
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
                + ("" if r is rows[0] else _signed(r.jitter_diff.get(g), ".2f"))
                if j
                else "—"
            )
        add(f"jitter {g}", cells)
    add("jumps found", [str(len(r.jumps)) if r.status != "unavailable" else "—" for r in rows])
    n_jumps = max((len(r.jumps) for r in rows), default=0)
    for k in range(n_jumps):
        tag = f"#{k + 1} " if n_jumps > 1 else ""
        add(f"{tag}jump type", [r.jumps[k]["jump_type"] if k < len(r.jumps) else "—" for r in rows])
        for key, label, unit, fac, dunit, _ in COMPARED:
            if not any(k < len(r.jumps) and key in r.jumps[k]["values"] for r in rows):
                continue
            fmt = ".3f" if unit in ("", "s") else ".1f"
            dfmt = ".1f" if dunit else ".3f"
            cells = []
            for r in rows:
                j = r.jumps[k] if k < len(r.jumps) else None
                v = j["values"].get(key) if j else None
                cell = "—" if v is None else f"{v * fac:{fmt}} {unit}".rstrip()
                d = r.diff[k].get(key) if j and k < len(r.diff) else None
                if d is not None and r is not rows[0]:
                    cell += f" ({d:+{dfmt}} {dunit})".replace(" )", ")")
                cells.append(cell)
            jt = next((r.jumps[k]["jump_type"] for r in rows if k < len(r.jumps)), None)
            name = label if key != "rsi" else f"RSI ({rsi_key(jt) or 'n/a'})"
            add(tag + name, cells)
    return header, lines


def notes(res: dict) -> list[str]:
    """Footnotes ``[i] label: reason`` for failed configurations and backend warnings."""
    out = []
    for i, r in enumerate(res["rows"]):
        for text in ([r.error] if r.error else []) + list(r.info.get("warnings", [])):
            out.append(f"[{i + 1}] {r.config.label}: {text}")
    return out


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
            m = row.measured
            if m is None or m.track is None:
                continue
            if m.analysis is not None:
                body = m.analysis.body
                t, hip = body.t, body.hip_y
                foot = np.nanmax(body.y[:, list(body.contact_points)], axis=1)
            else:
                foot_idx = [INDEX[n] for n in JITTER_LANDMARKS]
                t = m.track.times
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    foot = np.nanmax(m.track.landmarks[:, foot_idx, 1], axis=1)
                hip = m.track.landmarks[:, INDEX["hip"], 1]
            for ax, y in ((ax_f, foot), (ax_h, hip)):
                ref = np.nanmedian(y[: max(3, len(y) // 10)])
                ax.plot(t, ref - y, lw=1.2, color=color, label=row.config.label)
            if m.analysis is not None:
                from kinemotion_cli.jumps import timeline

                for te, key, _ in timeline(m.analysis):
                    for ax in (ax_f, ax_h):
                        ax.axvline(te, color=color, lw=0.8, ls=":")
                    ax_f.annotate(
                        key.removesuffix("_s"),
                        (te, 1.0),
                        xycoords=("data", "axes fraction"),
                        rotation=90,
                        va="top",
                        ha="right",
                        fontsize=7,
                        color=color,
                    )
        name = Path(res["video"]).name
        ax_f.set_title(f"{name}: lowest foot point", fontsize=10)
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
