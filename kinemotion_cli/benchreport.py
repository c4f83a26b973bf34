"""`kmo bench`: a benchmark sweep written up as a markdown report (and JSON).

Sweep: backend configuration x device x batch size x video length. The short video is the
first frames of a sample; the long one is it looped (``bench.loop_video``). Each cell runs in
a fresh Python process, so its peak memory (VmHWM) is its own: load the model, warm up on one
frame, then decode + infer the whole video; seconds cover decoding and inference (model load
reported apart). A cell that cannot run is a row saying why.

Everything it needs ships with kmo: the default source video is a 90-frame clip inside the
package (``kinemotion_cli/data``). rtmpose/rtmo without ``--model-dir`` run on stand-in ONNX
models written at run time by ``kinemotion_cli.testing.standins`` (the real models'
compute, meaningless weights) when ``onnx`` is importable; otherwise those rows are skipped
with the reason. Every row says what its model is (``model_kind``: real, stand-in or
unknown), read from the model files themselves, so stand-ins given with ``--model-dir`` or
found in a cache are labelled "stand-in model (test only)" too.
"""

from __future__ import annotations

import datetime as _dt
import itertools
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from kinemotion_cli import __version__
from kinemotion_cli.bench import ROOT, decode_fps, loop_video
from kinemotion_cli.data import BENCH_CLIP
from kinemotion_cli.errors import KmoError
from kinemotion_cli.models import STANDIN_LABEL

SCHEMA = "kmo.bench/2"
DEFAULT_VIDEO = BENCH_CLIP
CELL_TIMEOUT_S = 600
BATCHABLE = ("rtmpose",)  # backends with infer_batch
RTM_BACKENDS = ("rtmpose", "rtmo")


@dataclass
class Sweep:
    """What to measure."""

    backends: list[str] = field(
        default_factory=lambda: ["mediapipe:lite", "mediapipe:full", "rtmpose", "rtmo"]
    )
    devices: list[str] = field(default_factory=lambda: ["cpu", "cuda"])
    batches: list[int] = field(default_factory=lambda: [1, 2, 4, 8])
    lengths: list[str] = field(default_factory=lambda: ["short", "long"])
    video: str = str(DEFAULT_VIDEO)
    short_frames: int | None = None  # None: the whole video
    long_loops: int = 4
    model_dir: str | None = None
    threads: int | None = None


def quick_sweep(**overrides) -> Sweep:
    """The small sweep of ``kmo bench --quick`` (about a minute on two cores)."""
    base = Sweep(
        backends=["mediapipe:lite", "mediapipe:full", "rtmpose:lightweight"],
        devices=["auto"],
        batches=[1, 4],
        short_frames=60,
        long_loops=3,
    )
    for k, v in overrides.items():
        if v is not None:
            setattr(base, k, v)
    return base


# --------------------------------------------------------------------------- metadata


def _run(cmd: list[str], cwd: Path | None = None) -> str | None:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=20, cwd=cwd)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def _version(*dists: str) -> str | None:
    from importlib import metadata

    for d in dists:
        try:
            return f"{metadata.version(d)} ({d})" if len(dists) > 1 else metadata.version(d)
        except metadata.PackageNotFoundError:
            continue
    return None


def cpu_model() -> str:
    """The CPU's marketing name, where the OS tells it."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    if sys.platform == "darwin":
        got = _run(["sysctl", "-n", "machdep.cpu.brand_string"])
        if got:
            return got
    return platform.processor() or platform.machine()


def gpu_info() -> dict | None:
    """GPU model, driver and CUDA version from nvidia-smi; None without one."""
    q = _run(
        ["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"]
    )
    if not q:
        return None
    head = _run(["nvidia-smi"]) or ""
    cuda = head.split("CUDA Version:")[1].split()[0] if "CUDA Version:" in head else None
    gpus = [
        dict(zip(("name", "driver", "memory"), (p.strip() for p in ln.split(","))))
        for ln in q.splitlines()
    ]
    return {"gpus": gpus, "cuda": cuda}


def metadata() -> dict:
    """Everything needed to reproduce or judge the figures."""
    from kinemotion_cli.backends import ort as ortk

    git = None
    if (ROOT / ".git").exists():
        commit = _run(["git", "rev-parse", "HEAD"], ROOT)
        if commit:
            dirty = bool(_run(["git", "status", "--porcelain", "--untracked-files=no"], ROOT))
            git = {"commit": commit, "dirty": dirty}
    try:
        import onnxruntime

        providers = onnxruntime.get_available_providers()
    except ImportError:
        providers = []
    try:
        import cv2

        cv_threads = cv2.getNumThreads()
    except ImportError:
        cv_threads = None
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "date_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "kmo_version": __version__,
        "git": git,
        "host": platform.node(),
        "os": platform.platform(),
        "cpu_model": cpu_model(),
        "logical_cpus": os.cpu_count(),
        "usable_cpus": len(ortk.allowed_cpus()),
        "physical_cores_usable": ortk.physical_cores(),
        "cgroup_cpu_limit": ortk.cgroup_cpu_limit(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "versions": {
            "numpy": _version("numpy"),
            "opencv": _version("opencv-python", "opencv-python-headless", "opencv-contrib-python"),
            "mediapipe": _version("mediapipe"),
            "onnxruntime": _version("onnxruntime", "onnxruntime-gpu"),
            "rtmlib": _version("rtmlib"),
            "av": _version("av"),
        },
        "onnxruntime_providers": providers,
        "gpu": gpu_info(),
        "threads": {
            "onnxruntime_intra_op": ortk.default_threads(),
            "opencv": cv_threads,
            **{k: os.environ[k] for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS") if k in os.environ},
        },
        "load_average_start": [round(x, 2) for x in load] if load else None,
    }


# --------------------------------------------------------------------------- cells


@dataclass
class Cell:
    """One measurement: a configuration on one video, in its own process."""

    label: str
    backend: str
    variant: str | None
    device: str
    batch: int
    length: str
    video: str
    frames: int = 0
    model_dir: str | None = None
    threads: int | None = None
    status: str = "ok"
    reason: str | None = None
    model: str | None = None
    model_kind: str | None = None  # real | stand-in | unknown (None: did not run)
    device_used: str | None = None
    load_s: float | None = None
    seconds: float | None = None
    ms_per_frame: float | None = None
    fps: float | None = None
    peak_mb: float | None = None
    warnings: list[str] = field(default_factory=list)


def _peak_mb() -> float | None:
    try:
        status = Path("/proc/self/status").read_text()
        return int(status.split("VmHWM:")[1].split()[0]) / 1024.0
    except (OSError, IndexError, ValueError):
        import resource

        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return rss / (1024.0 * 1024.0) if sys.platform == "darwin" else rss / 1024.0


def run_cell_here(cell: Cell) -> Cell:
    """Measure ``cell`` in this process (called in a fresh child by :func:`run_cell`)."""
    import dataclasses

    from kinemotion_cli.compare import Config, spec_of
    from kinemotion_cli.pipeline import run

    spec = spec_of(Config(cell.backend, cell.variant, cell.device), cell.model_dir, cell.threads)
    opts = dataclasses.replace(spec.options, batch=cell.batch)  # dense, as in kmo compare
    (m,) = run(cell.video, [dataclasses.replace(spec, options=opts)])  # the whole pipeline
    if m.run.status != "ok":
        raise KmoError(m.run.error or "unavailable")
    cell.model = m.run.info.get("model")
    cell.model_kind = m.run.info.get("model_kind")
    cell.device_used = m.run.info.get("device_used")
    cell.load_s = m.run.load_s
    cell.warnings = list(m.run.info.get("warnings", []))
    cell.seconds = m.timing["total_s"]
    n = cell.frames = len(m.decode.times)
    cell.ms_per_frame = 1e3 * cell.seconds / n if n else None
    cell.fps = n / cell.seconds if cell.seconds else None
    cell.peak_mb = _peak_mb()
    return cell


def run_cell(cell: Cell, timeout_s: float = CELL_TIMEOUT_S) -> Cell:
    """Measure ``cell`` in a fresh Python process; failures become the row's reason."""
    cmd = [sys.executable, "-m", "kinemotion_cli.benchreport", "--cell", json.dumps(asdict(cell))]
    env = {**os.environ, "GLOG_minloglevel": "2", "TF_CPP_MIN_LOG_LEVEL": "3"}
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, env=env)
    except subprocess.TimeoutExpired:
        cell.status, cell.reason = "failed", f"timed out after {timeout_s:.0f} s"
        return cell
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode == 0 and lines:
        return Cell(**json.loads(lines[-1]))
    err = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
    cell.status = "failed"
    cell.reason = (err[-1] if err else f"exit code {proc.returncode}")[:300]
    return cell


def _cell_main(arg: str) -> int:
    cell = Cell(**json.loads(arg))
    try:
        cell = run_cell_here(cell)
    except KmoError as exc:
        cell.status, cell.reason = "unavailable", exc.message
    print(json.dumps(asdict(cell)), flush=True)
    return 0


# --------------------------------------------------------------------------- sweep


def standin_model_dir(
    folder: Path,
    modes: Sequence[str],
    log=None,  # noqa: ANN001 - callable(str) | None
) -> tuple[str | None, str | None]:
    """Stand-in rtmlib models of the real models' compute for ``modes``, written into
    ``folder``: (dir, None), or (None, why not) when ``onnx`` is missing."""
    from kinemotion_cli.testing import standins

    missing = standins.onnx_missing()
    if missing:
        return None, f"no --model-dir, and {missing}"
    if log:
        log(f"bench: writing stand-in models (test only) for {', '.join(modes)} ...")
    for mode in modes:
        standins.write_model_dir(folder, None, mode, realistic=True)
    return str(folder), None


def plan(sweep: Sweep, videos: dict[str, str]) -> list[Cell]:
    """The cells of a sweep, in report order."""
    from kinemotion_cli.compare import parse_configs

    configs = parse_configs(",".join(sweep.backends), None, ",".join(sweep.devices), None)
    cells = []
    for c, length in itertools.product(configs, sweep.lengths):
        batches = sweep.batches if c.backend in BATCHABLE else [1]
        for b in sorted(set(batches)):
            label = f"{c.backend}:{c.variant}" if c.variant else c.backend
            cells.append(
                Cell(
                    label,
                    c.backend,
                    c.variant,
                    c.device,
                    b,
                    length,
                    videos[length],
                    model_dir=sweep.model_dir,
                    threads=sweep.threads,
                )
            )
    return cells


def run_sweep(sweep: Sweep, log=None) -> dict:  # noqa: ANN001 - callable(str) | None
    """Run every cell and return the report document (JSON-ready)."""
    if not Path(sweep.video).is_file():
        raise KmoError(f"{sweep.video}: no such video; give --video (e.g. a sample video).")
    t_start = time.perf_counter()
    meta = metadata()
    with tempfile.TemporaryDirectory(prefix="kmo-bench-") as tmp:
        short = str(Path(tmp) / "short.mp4")
        loop_video(sweep.video, short, 1, sweep.short_frames)
        long = str(Path(tmp) / f"long{sweep.long_loops}x.mp4")
        if "long" in sweep.lengths:
            loop_video(short, long, sweep.long_loops)
        videos = {"short": short, "long": long}
        standin_dir, standin_why = None, None
        cells = plan(sweep, videos)
        modes = sorted({c.variant or "balanced" for c in cells if c.backend in RTM_BACKENDS})
        if modes and not sweep.model_dir:
            standin_dir, standin_why = standin_model_dir(Path(tmp) / "models", modes, log)
        decode = {k: decode_fps(videos[k])[0] for k in sweep.lengths}
        results = []
        for cell in cells:
            if cell.backend in RTM_BACKENDS and not sweep.model_dir:
                if standin_dir is None:
                    cell.status, cell.reason = "skipped", standin_why
                    results.append(cell)
                    continue
                cell.model_dir = standin_dir
            if log:
                log(f"bench: {cell.label} {cell.device} batch {cell.batch} {cell.length} ...")
            results.append(run_cell(cell))
        frames = {k: _frames(videos[k]) for k in sweep.lengths}
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    meta["load_average_end"] = [round(x, 2) for x in load] if load else None
    meta["wall_s"] = round(time.perf_counter() - t_start, 1)
    rows = []
    for c in results:
        d = asdict(c)
        d.pop("video")
        d["standins_written"] = c.backend in RTM_BACKENDS and not sweep.model_dir
        if d["standins_written"]:
            d["model_dir"] = None  # a temporary folder, gone by now
        rows.append(d)
    sw = asdict(sweep)
    doc = {
        "schema": SCHEMA,
        "metadata": meta,
        "sweep": sw,
        "videos": {
            k: {"frames": frames[k], "decode_fps": round(decode[k], 1)} for k in sweep.lengths
        },
        "results": rows,
    }
    doc["best"] = best(rows)
    doc["notes"] = anomalies(rows, meta)
    return doc


def _frames(path: str) -> int:
    from kinemotion_cli.video import iter_frames, probe

    return sum(1 for _ in iter_frames(path, probe(path)))


# --------------------------------------------------------------------------- analysis


def _ok(rows: Sequence[dict]) -> list[dict]:
    return [r for r in rows if r["status"] == "ok" and r.get("fps")]


def _name(r: dict) -> str:
    dev = r["device"]
    if dev != "auto" and r.get("device_used") not in (None, dev):
        dev = f"{dev}->{r['device_used']}"
    return f"{r['label']} @{dev} batch {r['batch']}"


def best(rows: Sequence[dict]) -> dict:
    """Fastest and leanest configuration per video length."""
    out = {}
    for length in sorted({r["length"] for r in rows}):
        ok = [r for r in _ok(rows) if r["length"] == length]
        if not ok:
            continue
        fast = max(ok, key=lambda r: r["fps"])
        lean = min(ok, key=lambda r: r["peak_mb"] or float("inf"))
        out[length] = {
            "fastest": {"config": _name(fast), "fps": round(fast["fps"], 1)},
            "least_memory": {"config": _name(lean), "peak_mb": round(lean["peak_mb"], 1)},
        }
    return out


def anomalies(rows: Sequence[dict], meta: dict | None = None) -> list[str]:
    """Generated notes: throughput falling with batch size or video length, memory growing
    with video length, device fallbacks, rows that did not run, a busy machine."""
    notes: list[str] = []
    ok = _ok(rows)
    key = lambda r: (r["label"], r["device"], r["length"])  # noqa: E731
    groups: dict[tuple, list[dict]] = {}
    for r in ok:
        groups.setdefault(key(r), []).append(r)
    for (label, dev, length), rs in groups.items():
        rs = sorted(rs, key=lambda r: r["batch"])
        for a, b in zip(rs, rs[1:]):
            if b["fps"] < 0.95 * a["fps"]:
                notes.append(
                    f"{label} @{dev}, {length} video: throughput falls as batch size grows "
                    f"({a['fps']:.1f} fps at batch {a['batch']} -> {b['fps']:.1f} fps at batch "
                    f"{b['batch']}, {100 * (b['fps'] / a['fps'] - 1):+.0f} %)."
                )
    by_len: dict[tuple, dict[str, dict]] = {}
    for r in ok:
        by_len.setdefault((r["label"], r["device"], r["batch"]), {})[r["length"]] = r
    for (label, dev, batch), d in by_len.items():
        if "short" in d and "long" in d:
            s, lg = d["short"], d["long"]
            if lg["fps"] < 0.85 * s["fps"]:
                notes.append(
                    f"{label} @{dev} batch {batch}: slower on the long video ({lg['fps']:.1f} vs "
                    f"{s['fps']:.1f} fps on the short one)."
                )
            if s.get("peak_mb") and lg.get("peak_mb") and lg["peak_mb"] > 1.25 * s["peak_mb"]:
                notes.append(
                    f"{label} @{dev} batch {batch}: peak memory grows with video length "
                    f"({s['peak_mb']:.0f} -> {lg['peak_mb']:.0f} MiB)."
                )
    seen = set()
    for r in ok:
        if r["device"] != "auto" and r.get("device_used") and r["device_used"] != r["device"]:
            k = (r["label"], r["device"], r["device_used"])
            if k not in seen:
                seen.add(k)
                notes.append(
                    f"{r['label']}: {r['device']} requested but it ran on {r['device_used']}."
                )
    for r in rows:
        if r["status"] != "ok":
            k = (r["label"], r["device"], r["status"], r["reason"])
            if k not in seen:
                seen.add(k)
                notes.append(f"{r['label']} @{r['device']}: {r['status']}: {r['reason']}")
    standin = [r for r in ok if r.get("model_kind") == "stand-in"]
    if any(r.get("standins_written") for r in standin):
        notes.append(
            f"rows whose model says '{STANDIN_LABEL}' ran stand-in ONNX models written for this "
            "run (kinemotion_cli.testing.standins): random weights with the real models' "
            "multiply-adds per call (detector, pose crop, RTMO; REAL_MACS there): speed is "
            "indicative (plain convolutions, no depthwise ones), landmarks are not real. "
            "Give --model-dir with the real models for real figures."
        )
    if any(not r.get("standins_written") for r in standin):
        notes.append(
            f"rows whose model says '{STANDIN_LABEL}' found stand-in models (marked "
            "kmo_standin) in --model-dir or a cache, not the real ones: their figures are "
            "not those of the real models."
        )
    if any(r.get("model_kind") == "unknown" for r in ok):
        notes.append(
            "model kind 'unknown': no checksum is known for these model files (none is known "
            "for the rtmlib models), so kmo cannot confirm they are the upstream ones."
        )
    if meta and meta.get("load_average_start") and meta.get("usable_cpus"):
        la = max(meta["load_average_start"][0], (meta.get("load_average_end") or [0])[0])
        if la > meta["usable_cpus"]:
            notes.append(
                f"the machine was busy (load average {la:.1f} on {meta['usable_cpus']} usable "
                "CPUs): figures are pessimistic and noisier than on an idle machine."
            )
    return notes


# --------------------------------------------------------------------------- report


def _f(x: float | None, fmt: str) -> str:
    return "—" if x is None else format(x, fmt)


def to_markdown(doc: dict) -> str:
    """The report as markdown."""
    m = doc["metadata"]
    git = m.get("git")
    gpu = m.get("gpu")
    gpu_txt = (
        "; ".join(f"{g['name']} (driver {g['driver']}, {g['memory']})" for g in gpu["gpus"])
        + f", CUDA {gpu['cuda']}"
        if gpu
        else "none"
    )
    v = m["versions"]
    meta_rows = [
        ("date (UTC)", m["date_utc"]),
        ("kmo", m["kmo_version"]),
        ("git commit", (git["commit"] + (" (dirty)" if git["dirty"] else "")) if git else "n/a"),
        ("host", f"{m['host']} — {m['os']}"),
        ("CPU", m["cpu_model"]),
        (
            "cores",
            f"{m['logical_cpus']} logical, {m['usable_cpus']} usable, "
            f"{m['physical_cores_usable']} physical usable, cgroup limit "
            f"{m['cgroup_cpu_limit'] or 'none'}",
        ),
        ("Python", m["python"]),
        ("numpy / opencv / mediapipe", f"{v['numpy']} / {v['opencv']} / {v['mediapipe']}"),
        ("onnxruntime / rtmlib / av", f"{v['onnxruntime']} / {v['rtmlib']} / {v['av']}"),
        ("onnxruntime providers", ", ".join(m["onnxruntime_providers"]) or "none"),
        ("GPU", gpu_txt),
        ("threads", ", ".join(f"{k} {val}" for k, val in m["threads"].items())),
        (
            "load average start / end (1 min)",
            f"{_la(m.get('load_average_start'))} / {_la(m.get('load_average_end'))}",
        ),
        ("bench wall time", f"{m.get('wall_s', '—')} s"),
    ]
    sw = doc["sweep"]
    out = [
        f"# kmo benchmark report — {m['date_utc'][:10]}",
        "",
        "## Run metadata",
        "",
        "| | |",
        "|---|---|",
        *(f"| {k} | {val} |" for k, val in meta_rows),
        "",
        "## Sweep",
        "",
        f"- source video: `{Path(sw['video']).name}`; short = "
        + (f"its first {sw['short_frames']} frames" if sw["short_frames"] else "the whole video")
        + f", long = the short one looped {sw['long_loops']}x",
        *(
            f"- {k} video: {d['frames']} frames, decoding alone {d['decode_fps']} fps"
            for k, d in doc["videos"].items()
        ),
        f"- backends: {', '.join(sw['backends'])}; devices: {', '.join(sw['devices'])}; "
        f"batch sizes: {', '.join(map(str, sw['batches']))} (only for backends that batch: "
        f"{', '.join(BATCHABLE)})",
        "- each cell: a fresh process; model load, one warm-up frame, then decode + pose for "
        "every frame; seconds exclude the model load; peak memory = the process's VmHWM",
        "",
        "## Results",
        "",
        "| backend | model | model kind | device (used) | batch | video | frames | load (s) | "
        "seconds | ms/frame | fps | peak MiB | status |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in doc["results"]:
        status = r["status"] if r["status"] == "ok" else f"{r['status']}: {r['reason']}"
        model = r["model"] or "—"
        kind = r.get("model_kind") or "—"
        out.append(
            f"| {r['label']} | {model} | {kind} | {r['device']} ({r['device_used'] or '—'}) "
            f"| {r['batch']} | {r['length']} | {r['frames'] or '—'} | {_f(r['load_s'], '.2f')} "
            f"| {_f(r['seconds'], '.2f')} | {_f(r['ms_per_frame'], '.1f')} | {_f(r['fps'], '.1f')} "
            f"| {_f(r['peak_mb'], '.0f')} | {status.replace('|', '/')} |"
        )
    out += ["", "## Best configurations", ""]
    if doc["best"]:
        for length, b in doc["best"].items():
            out.append(
                f"- {length} video: fastest {b['fastest']['config']} ({b['fastest']['fps']} fps); "
                f"least memory {b['least_memory']['config']} ({b['least_memory']['peak_mb']} MiB)"
            )
    else:
        out.append("- no configuration ran")
    out += ["", "## Notes", ""]
    out += [f"- {n}" for n in doc["notes"]] or ["- none"]
    out.append("")
    return "\n".join(out)


def _la(x: list | None) -> str:
    return "—" if not x else f"{x[0]:.2f}"


def write_report(
    doc: dict, markdown: Path | None, json_path: Path | None, force: bool = False
) -> None:
    """Write the markdown report and/or the JSON (atomically)."""
    from kinemotion_cli.outputs import write_text

    if markdown is not None:
        write_text(markdown, to_markdown(doc), force)
    if json_path is not None:
        write_text(json_path, json.dumps(doc, indent=1) + "\n", force)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--cell":
        sys.exit(_cell_main(sys.argv[2]))
    sys.exit("usage: kmo bench (this module's --cell mode is internal)")
