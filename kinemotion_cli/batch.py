"""Batch runs: expand inputs, plan outputs, measure videos (in parallel), report in order.

One failing video never stops the batch: it is reported (stderr line, ``status: error`` in JSON
and CSV) and the run ends with exit code 6 when some videos failed and others were measured,
or with the first failure's own code when every video failed.

Where the videos are measured is an executor (:mod:`kinemotion_cli.engines`): one at a time
here, a local process pool (``--workers N > 1``) or Ray actors (``--engine ray``). Every
executor hands each outcome to the same ``finish`` here, so results are printed in input order
whatever the completion order, and per-video JSON files are written (atomically) as soon as
each video finishes, so an interrupted batch can be resumed with ``--skip-existing``.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kinemotion_cli.backends import BackendOptions
from kinemotion_cli.console import ProgressBar
from kinemotion_cli.errors import ExitCode, KmoError
from kinemotion_cli.outputs import ensure_dir, refuse_existing, write_text

VIDEO_EXTS = frozenset(
    (".mp4", ".mov", ".m4v", ".avi", ".mkv", ".webm", ".mts", ".m2ts", ".3gp", ".wmv", ".mpg")
)
OVERLAY_SUFFIX, PLOT_SUFFIX = ".overlay.mp4", ".plot.png"
PLOT_FORMATS = (".png", ".svg", ".pdf")
StageFn = Callable[[str, int, "int | None"], None]


def expand_inputs(paths: Iterable[Path], recursive: bool = False) -> list[Path]:
    """Files as given; directories expanded to their video files (by extension), sorted.

    Without ``recursive`` only a directory's own files are taken. A path that does not exist
    is kept, so it is reported as a failed video. Duplicates are dropped (first wins).
    """
    out: list[Path] = []
    seen: set[Path] = set()
    for p in paths:
        p = Path(p)
        if p.is_dir():
            found = p.rglob("*") if recursive else p.iterdir()
            items = sorted(
                (f for f in found if f.is_file() and f.suffix.lower() in VIDEO_EXTS),
                key=lambda f: f.as_posix(),
            )
            if not items:
                hint = "" if recursive else " (use --recursive for subfolders)"
                raise KmoError(f"{p}: no video files in this folder{hint}.")
        else:
            items = [p]
        for f in items:
            key = f.resolve()
            if key not in seen:
                seen.add(key)
                out.append(f)
    if not out:
        raise KmoError("no video files given.")
    return out


def resolve_target(
    spec: str | None, video: Path, several: bool, suffix: str, option: str
) -> Path | None:
    """Where ``--overlay``/``--plot`` output for ``video`` goes.

    A spec containing ``{stem}`` is a pattern; an existing folder (or one ending in ``/``)
    gets ``<stem><suffix>``; otherwise, for a single video, the spec is the file itself.
    """
    if spec is None:
        return None
    if "{stem}" in spec:
        return Path(spec.replace("{stem}", video.stem))
    p = Path(spec)
    if p.is_dir() or spec.endswith(("/", os.sep)):
        return p / f"{video.stem}{suffix}"
    if several:
        raise KmoError(
            f"{option} {spec}: with several videos give a folder or a pattern containing "
            f"{{stem}}, e.g. {option} 'out/{{stem}}{suffix}'."
        )
    return p


@dataclass
class Settings:
    """What every video is analysed with (picklable, sent to worker processes)."""

    backend: str = "mediapipe"
    options: BackendOptions = field(default_factory=BackendOptions)
    jump: str = "auto"
    height: float | None = None
    timings: bool = False
    max_side: int | None = None  # --max-side: frames' longer side for the model (None, 0: full)


def share_cores(settings: Settings, workers: int) -> Settings:
    """``settings`` for one of ``workers`` videos measured side by side: unless
    ``--threads`` was given, each video infers on its share of the usable cores."""
    from dataclasses import replace

    from kinemotion_cli.backends.pool import per_video

    if settings.options.threads is not None or workers <= 1:
        return settings
    return replace(settings, options=replace(settings.options, threads=per_video(workers)))


@dataclass
class Job:
    """One video and where its outputs go."""

    index: int
    video: Path
    json_path: Path | None = None
    overlay: Path | None = None
    plot: Path | None = None
    overwrite: bool = False
    skip: bool = False


@dataclass
class Outcome:
    """The result object of one video (ok, error or skipped) and its exit code."""

    index: int
    obj: dict
    code: int = 0
    trace: str | None = None
    seconds: float = 0.0

    @property
    def failed(self) -> bool:
        return self.obj.get("status") == "error"


def _ok_json(path: Path) -> dict | None:
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return obj if isinstance(obj, dict) and obj.get("status") == "ok" else None


def plan(
    videos: Sequence[Path],
    out_dir: Path | None = None,
    overlay: str | None = None,
    plot: str | None = None,
    skip_existing: bool = False,
    force: bool = False,
) -> list[Job]:
    """Output paths for every video; refuse clobbering (before any work) unless --force.

    With ``skip_existing`` a video is skipped when all its outputs exist (and its JSON in
    ``out_dir``, if any, says ``ok``); other videos are redone and may overwrite leftovers.
    """
    several = len(videos) > 1
    if out_dir is not None:
        ensure_dir(out_dir)
    jobs: list[Job] = []
    owners: dict[Path, Path] = {}
    for i, v in enumerate(videos):
        job = Job(
            i,
            v,
            json_path=out_dir / f"{v.stem}.json" if out_dir is not None else None,
            overlay=resolve_target(overlay, v, several, OVERLAY_SUFFIX, "--overlay"),
            plot=resolve_target(plot, v, several, PLOT_SUFFIX, "--plot"),
            overwrite=force or skip_existing,
        )
        if job.overlay is not None and job.overlay.suffix.lower() != ".mp4":
            raise KmoError(f"--overlay {job.overlay}: the overlay is an MP4; end the name in .mp4.")
        if job.plot is not None and job.plot.suffix.lower() not in PLOT_FORMATS:
            raise KmoError(f"--plot {job.plot}: use a .png, .svg or .pdf file name.")
        targets = [p for p in (job.json_path, job.overlay, job.plot) if p is not None]
        for t in targets:
            key = t.resolve()
            if key == v.resolve():
                raise KmoError(f"{t}: output would overwrite its input video; choose another name.")
            if key in owners:
                raise KmoError(
                    f"{t}: both {owners[key]} and {v} would write this file (same name stem); "
                    "rename one or run them separately."
                )
            owners[key] = v
        if skip_existing and targets:
            job.skip = all(t.exists() for t in targets) and (
                job.json_path is None or _ok_json(job.json_path) is not None
            )
        elif not force:
            for t in targets:
                refuse_existing(t, force)
        for t in targets:
            ensure_dir(t.parent)
        jobs.append(job)
    return jobs


def _short(message: str, video: Path) -> str:
    """The message without a leading '<video>: ' (the caller prefixes the video itself)."""
    prefix = f"{video}:"
    return message[len(prefix) :].strip() if message.startswith(prefix) else message


def process(
    job: Job,
    settings: Settings,
    stage: StageFn | None = None,
    factory=None,  # noqa: ANN001
) -> Outcome:
    """Measure one video and write its overlay/plot; never raises for a per-video failure."""
    from kinemotion_cli import report
    from kinemotion_cli.pipeline import PoseSpec, analyze_video

    t0 = time.perf_counter()
    path = str(job.video)

    def cb(name: str):  # noqa: ANN202
        return None if stage is None else (lambda n, total: stage(name, n, total))

    try:
        spec = PoseSpec(settings.backend, settings.options)
        extra = {} if factory is None else {"factory": factory}
        a = analyze_video(
            path, spec, settings.jump, settings.height, cb("pose"), settings.max_side, **extra
        )
        obj = report.to_dict(a, timings=settings.timings)
        if job.overlay is not None:
            from kinemotion_cli.overlay import write_overlay

            write_overlay(a, job.overlay, force=job.overwrite, progress=cb("overlay"))
        if job.plot is not None:
            from kinemotion_cli.plot import write_plot

            write_plot(a, job.plot, force=job.overwrite)
        return Outcome(job.index, obj, 0, seconds=time.perf_counter() - t0)
    except KmoError as exc:
        msg = _short(exc.message, job.video)
        code = int(exc.code)
        trace = traceback.format_exc()
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # noqa: BLE001 - one broken video must not stop the batch
        msg = (
            f"internal error: {type(exc).__name__}: {exc}; please report it "
            "(run with --debug for details)."
        )
        code = int(ExitCode.INTERNAL)
        trace = traceback.format_exc()
    obj = report.error_dict(path, msg, code)
    return Outcome(job.index, obj, code, trace, time.perf_counter() - t0)


def _skipped(job: Job) -> Outcome:
    from kinemotion_cli import report

    obj = _ok_json(job.json_path) if job.json_path is not None else None
    if obj is None:
        obj = {
            "schema_version": report.SCHEMA_VERSION,
            "video": str(job.video),
            "status": "skipped",
        }
    return Outcome(job.index, obj, 0)


@dataclass
class Config:
    """Command-line choices for one ``kmo analyze`` run."""

    inputs: list[Path]
    settings: Settings
    recursive: bool = False
    workers: int | None = None  # None: 1 locally; one per cluster CPU with Ray
    out_dir: Path | None = None
    as_json: bool = False  # JSON lines on stdout
    as_csv: bool = False  # CSV on stdout
    json_file: Path | None = None  # JSON lines into a file
    csv_file: Path | None = None
    overlay: str | None = None
    plot: str | None = None
    skip_existing: bool = False
    force: bool = False
    quiet: bool = False
    debug: bool = False
    accept_low_confidence: bool = False
    engine: str | None = None  # "local" (default) or "ray"
    ray_address: str | None = None  # implies engine "ray"; else $RAY_ADDRESS or a local Ray
    ray_gpus: float | None = None  # GPUs per Ray worker (None: 1 for GPU backends on GPUs)
    ray_send_videos: bool = False  # always send video bytes to Ray workers


class _Printer:
    """Prints outcomes in input order: results on stdout, errors on stderr."""

    def __init__(self, cfg: Config, bar: ProgressBar) -> None:
        self.cfg, self.bar = cfg, bar
        self.pending: dict[int, Outcome] = {}
        self.next = 0

    def add(self, out: Outcome) -> None:
        self.pending[out.index] = out
        while self.next in self.pending:
            o = self.pending.pop(self.next)
            self.bar.paused(lambda o=o: self._print(o))
            self.next += 1

    def _print(self, o: Outcome) -> None:
        from kinemotion_cli import report

        cfg = self.cfg
        if o.failed:
            if cfg.debug and o.trace:
                sys.stderr.write(o.trace)
            sys.stderr.write(f"kmo: error: {o.obj['video']}: {o.obj['error']}\n")
            sys.stderr.flush()
        if cfg.as_json:
            sys.stdout.write(report.to_json(o.obj) + "\n")
        elif cfg.as_csv:
            sys.stdout.write(report.csv_rows(o.obj))
        elif o.obj.get("status") == "ok":
            from kinemotion_cli.console import print_rich

            print_rich(report.render_table(o.obj))
        sys.stdout.flush()


def _write_json(job: Job, out: Outcome) -> None:
    if job.json_path is not None:
        text = json.dumps(out.obj, indent=2, allow_nan=False) + "\n"
        write_text(job.json_path, text, force=job.overwrite)


def run_batch(cfg: Config) -> int:
    """Run a whole ``kmo analyze`` invocation; return the process exit code."""
    from kinemotion_cli import engines, report

    if cfg.as_json and cfg.as_csv:
        raise KmoError("--json and --csv both print on stdout; choose one (or --csv-file FILE).")
    engines.check(cfg)
    videos = expand_inputs(cfg.inputs, cfg.recursive)
    if cfg.skip_existing and not (cfg.out_dir or cfg.overlay or cfg.plot):
        raise KmoError(
            "--skip-existing needs per-video outputs: give --out DIR (or --overlay/--plot)."
        )
    jobs = plan(videos, cfg.out_dir, cfg.overlay, cfg.plot, cfg.skip_existing, cfg.force)
    files = [p for p in (cfg.csv_file, cfg.json_file) if p is not None]
    for p in files:
        refuse_existing(p, cfg.force or cfg.skip_existing)
        ensure_dir(p.parent)

    todo = [j for j in jobs if not j.skip]
    bar = ProgressBar.for_terminal(cfg.quiet, engines.progress_unit(cfg, len(todo)))
    printer = _Printer(cfg, bar)
    outcomes: list[Outcome | None] = [None] * len(jobs)

    def finish(out: Outcome) -> None:
        outcomes[out.index] = out
        if not jobs[out.index].skip:
            _write_json(jobs[out.index], out)
        printer.add(out)

    try:
        if cfg.as_csv:
            sys.stdout.write(report.csv_header())
        for j in jobs:
            if j.skip:
                outcomes[j.index] = _skipped(j)
        # Print leading skipped results right away; later ones wait for their turn.
        for j in jobs:
            if j.skip:
                printer.add(outcomes[j.index])
        if todo:
            engines.executor_for(cfg, bar, len(todo)).run(todo, finish)
    finally:
        bar.close()

    done = [o for o in outcomes if o is not None]
    if cfg.csv_file is not None:
        text = report.csv_header() + "".join(report.csv_rows(o.obj) for o in done)
        write_text(cfg.csv_file, text, force=True)
    if cfg.json_file is not None:
        text = "".join(report.to_json(o.obj) + "\n" for o in done)
        write_text(cfg.json_file, text, force=True)
    failed = [o for o in done if o.failed]
    skipped = sum(j.skip for j in jobs)
    if skipped and not cfg.quiet:
        sys.stderr.write(f"kmo: skipped {skipped} video(s) whose outputs exist (--skip-existing)\n")
    if failed and len(done) > 1:
        sys.stderr.write(f"kmo: {len(failed)} of {len(done)} videos failed:\n")
        for o in failed:
            sys.stderr.write(f"  {o.obj['video']}: {o.obj['error']}\n")
    low = [o for o in done if not o.failed and _low_confidence(o.obj)]
    if low and not cfg.accept_low_confidence and not cfg.quiet:
        names = ", ".join(str(o.obj["video"]) for o in low[:3]) + (" ..." if len(low) > 3 else "")
        sys.stderr.write(
            f"kmo: low confidence: {names} (see quality.reasons; --accept-low-confidence exits 0)\n"
        )
    sys.stderr.flush()
    if failed:
        return int(ExitCode.PARTIAL) if len(failed) < len(done) else failed[0].code
    if low and not cfg.accept_low_confidence:
        return int(ExitCode.LOW_CONFIDENCE)
    return int(ExitCode.OK)


def _low_confidence(obj: dict) -> bool:
    return obj.get("status") == "ok" and (obj.get("quality") or {}).get("verdict") != "ok"
