"""Thin Typer commands. All the work happens in the pipeline modules.

The choices (backends, MediaPipe models, rtmlib modes, devices, jump types) come from their
registries; options shared by several commands are defined once below. Output options mean
the same in every command: ``--json``, ``--csv`` and ``--markdown`` print that format on
stdout instead of the table; ``--json-file``, ``--csv-file``, ``--markdown-file`` and
``--plot`` write files.
"""

from __future__ import annotations

import os
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from kinemotion_cli import __version__
from kinemotion_cli.backends import (
    BACKEND_CHOICES,
    BACKENDS,
    DEVICES,
    MEDIAPIPE_VARIANTS,
    RTM_MODES,
)
from kinemotion_cli.console import ProgressBar, kmo_error, set_debug, silence_native_stderr
from kinemotion_cli.errors import ExitCode, KmoError
from kinemotion_cli.jumps import BY_CLI, JUMP_CHOICES
from kinemotion_cli.models.rtmlib_models import mode_help


def _enum(name: str, values: tuple[str, ...]) -> type[Enum]:
    """A str Enum of a registry's choices (what Typer shows and validates)."""
    return Enum(name, {v: v for v in values}, type=str)


Jump = _enum("Jump", JUMP_CHOICES)
Backend = _enum("Backend", BACKEND_CHOICES)
Model = _enum("Model", MEDIAPIPE_VARIANTS)
RtmMode = _enum("RtmMode", RTM_MODES)
Device = _enum("Device", DEVICES)
Engine = _enum("Engine", ("local", "ray"))

JUMP_HELP = "Jump type: auto classifies; " + ", ".join(
    f"{t.cli} = {t.label.lower()}" for t in BY_CLI.values()
)
BACKEND_HELP = "Pose backend: " + "; ".join(f"{k}: {s.help}" for k, s in BACKENDS.items())

# ---------------------------------------------------------------- shared options
JumpOpt = Annotated[Jump, typer.Option("--jump", "-j", help=JUMP_HELP)]
HeightOpt = Annotated[
    float | None,
    typer.Option("--height", min=0.5, max=2.6, help="Athlete stature in metres (sets the scale)."),
]
ModelDirOpt = Annotated[
    Path | None,
    typer.Option(envvar="KMO_MODEL_DIR", help="Folder with model files (offline machines)."),
]
ThreadsOpt = Annotated[
    int | None,
    typer.Option(
        min=1,
        help="Inference threads (default: the usable cores, shared among the videos measured "
        "side by side or the configurations compared); MediaPipe results do not depend on it.",
    ),
]
ForceOpt = Annotated[bool, typer.Option("--force", help="Overwrite existing output files.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress or notes.")]
DebugOpt = Annotated[bool, typer.Option(help="Show tracebacks and native library logs.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON on stdout instead of the table.")]

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode=None,
    help="kmo: measure vertical jumps (CMJ, drop jump, squat jump, rebounds) from ordinary video.",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"kmo {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show version.")
    ] = False,
) -> None:
    """kmo: measure vertical jumps from ordinary video."""


def _value(x: Enum | None) -> str | None:
    return None if x is None else x.value


@app.command()
def analyze(
    videos: Annotated[
        list[Path],
        typer.Argument(help="Video files and/or folders of videos (see --recursive)."),
    ],
    jump: JumpOpt = Jump.auto,
    backend: Annotated[Backend, typer.Option("--backend", "-b", help=BACKEND_HELP)] = (
        Backend.mediapipe
    ),
    model: Annotated[
        Model | None, typer.Option(help="MediaPipe model (default full; heavy is downloaded).")
    ] = None,
    mode: Annotated[
        RtmMode,
        typer.Option(help="rtmpose/rtmo model size (detector + pose, input sizes): " + mode_help()),
    ] = RtmMode.balanced,
    device: Annotated[Device, typer.Option(help="Inference device.")] = Device.auto,
    model_dir: ModelDirOpt = None,
    threads: ThreadsOpt = None,
    det_every: Annotated[
        int, typer.Option(min=1, help="rtmpose: run the person detector every N frames.")
    ] = 1,
    batch: Annotated[
        int,
        typer.Option(
            min=1,
            help="rtmpose: frames whose pose crops run in one batch (GPU; dynamic-batch model).",
        ),
    ] = 1,
    dense: Annotated[
        bool,
        typer.Option(
            "--dense",
            help="Run the pose model on every frame (default: on every frame where the "
            "body moves, on every 4th at 60 fps where everybody stands still).",
        ),
    ] = False,
    focus: Annotated[
        bool,
        typer.Option(
            "--focus/--no-focus",
            help="Infer the jumper again on crops that follow them, where they fill under "
            "80 % of the picture's longer side (default: on; --no-focus is faster).",
        ),
    ] = True,
    max_side: Annotated[
        int | None,
        typer.Option(
            "--max-side",
            metavar="PX",
            min=0,
            help="Shrink the frames given to the pose model to this longer side in pixels "
            "(default: the video's size; e.g. 1280: less memory, see the README). Landmarks "
            "stay in video pixels.",
        ),
    ] = None,
    height: HeightOpt = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object per video (one per line).")
    ] = False,
    as_csv: Annotated[
        bool, typer.Option("--csv", help="Print CSV (header + one row per jump) on stdout.")
    ] = False,
    json_file: Annotated[
        Path | None,
        typer.Option("--json-file", metavar="FILE", help="Write the JSON lines to FILE."),
    ] = None,
    csv_file: Annotated[
        Path | None,
        typer.Option("--csv-file", metavar="FILE", help="Write the CSV summary to FILE."),
    ] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out", metavar="DIR", help="Write <stem>.json (pretty JSON) per video into DIR."
        ),
    ] = None,
    overlay: Annotated[
        str | None,
        typer.Option(
            metavar="FILE.mp4",
            help="Write the annotated video (skeleton, phase, events, metrics; H.264 MP4). "
            "With several videos give a folder (-> DIR/<stem>.overlay.mp4) or a pattern "
            "containing {stem}, e.g. 'out/{stem}_overlay.mp4'.",
        ),
    ] = None,
    plot: Annotated[
        str | None,
        typer.Option(
            metavar="FILE.png",
            help="Write the foot/hip trajectory plot (PNG; .svg/.pdf also work). With several "
            "videos give a folder (-> DIR/<stem>.plot.png) or a pattern containing {stem}.",
        ),
    ] = None,
    recursive: Annotated[
        bool, typer.Option("--recursive", "-r", help="Also take videos in subfolders.")
    ] = False,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            "-w",
            min=1,
            help="Videos measured in parallel (default 1; with --engine ray, one per cluster CPU).",
        ),
    ] = None,
    engine: Annotated[
        Engine | None,
        typer.Option(
            help="Where videos are measured: local (this machine, default) or ray (one task per "
            'video on a Ray cluster; needs pip install "kinemotion-cli[ray]").'
        ),
    ] = None,
    ray_address: Annotated[
        str | None,
        typer.Option(
            metavar="ADDRESS",
            help="Ray cluster to use (implies --engine ray); default $RAY_ADDRESS, else a local "
            "Ray on this machine.",
        ),
    ] = None,
    ray_gpus: Annotated[
        float | None,
        typer.Option(
            min=0.0,
            help="GPUs each Ray worker asks for (fractions share a GPU); default 1 for "
            "rtmpose/rtmo/auto on a cluster with GPUs (and --device not cpu), else 0.",
        ),
    ] = None,
    ray_send_videos: Annotated[
        bool,
        typer.Option(
            "--ray-send-videos",
            help="Always send each video's bytes to its Ray worker (no shared storage). "
            "Without it a video is sent only when its worker cannot read the path.",
        ),
    ] = False,
    skip_existing: Annotated[
        bool,
        typer.Option(
            "--skip-existing",
            help="Resume: skip videos whose outputs (--out JSON 'ok', --overlay, --plot) exist.",
        ),
    ] = False,
    accept_low_confidence: Annotated[
        bool,
        typer.Option(
            "--accept-low-confidence",
            help="Exit 0 (not 7) when a result's quality verdict is 'low confidence'.",
        ),
    ] = False,
    force: ForceOpt = False,
    timings: Annotated[bool, typer.Option(help="Add processing times to JSON.")] = False,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Measure every jump in each VIDEO: events, flight time, height, contact time, RSI.

    Exit codes: 0 all measured; 2 bad input/option or output exists (use --force);
    3 no jump; 4 not measurable; 5 jump type mismatch; 6 batch with some videos failed
    (the others were measured); 7 measured with low confidence (numbers printed; see
    --accept-low-confidence); when every video fails, the first failure's code.
    """
    from kinemotion_cli.backends import BackendOptions
    from kinemotion_cli.batch import Config, Settings, run_batch
    from kinemotion_cli.video import check_max_side

    set_debug(debug)
    check_max_side(max_side)
    on_stdout = as_json or as_csv
    options = BackendOptions(
        model=_value(model),
        mode=mode.value,
        device=device.value,
        model_dir=str(model_dir) if model_dir else None,
        threads=threads,
        det_every=det_every,
        batch=batch,
        quiet=quiet or on_stdout,
        dense=dense,
        focus=focus,
    )
    cfg = Config(
        inputs=list(videos),
        settings=Settings(backend.value, options, jump.value, height, timings, max_side),
        recursive=recursive,
        workers=workers,
        out_dir=out_dir,
        as_json=as_json,
        as_csv=as_csv,
        json_file=json_file,
        csv_file=csv_file,
        overlay=overlay,
        plot=plot,
        skip_existing=skip_existing,
        force=force,
        quiet=quiet,
        debug=debug,
        accept_low_confidence=accept_low_confidence,
        engine=_value(engine),
        ray_address=ray_address,
        ray_gpus=ray_gpus,
        ray_send_videos=ray_send_videos,
    )
    try:
        code = run_batch(cfg)
    except KmoError as exc:
        if as_json:  # one JSON object even for an error before any video was read
            from kinemotion_cli.report import error_dict, to_json

            sys.stdout.write(to_json(error_dict(None, exc.message, exc.code)) + "\n")
            sys.stdout.flush()
        raise
    if code != int(ExitCode.OK):
        raise typer.Exit(code)


@app.command()
def compare(
    videos: Annotated[list[Path], typer.Argument(help="Video files to compare on.")],
    backends: Annotated[
        str,
        typer.Option(
            help="Comma list of backends, each name[:model-or-mode][@device], e.g. "
            "'mediapipe:lite,mediapipe:full,rtmpose'. A plain name expands over --models "
            "(mediapipe), --modes (rtmpose/rtmo) and --devices."
        ),
    ] = "mediapipe",
    models: Annotated[
        str, typer.Option(help="MediaPipe models for a plain 'mediapipe': lite,full,heavy.")
    ] = "lite,full",
    modes: Annotated[
        str, typer.Option(help="rtmpose/rtmo sizes, comma list of modes: " + mode_help())
    ] = "balanced",
    devices: Annotated[str, typer.Option(help="Devices: " + ",".join(DEVICES) + ".")] = "auto",
    model_dir: ModelDirOpt = None,
    threads: ThreadsOpt = None,
    jump: JumpOpt = Jump.auto,
    height: HeightOpt = None,
    as_json: JsonOpt = False,
    as_markdown: Annotated[
        bool, typer.Option("--markdown", help="Print markdown on stdout instead of the table.")
    ] = False,
    json_file: Annotated[
        Path | None, typer.Option("--json-file", metavar="FILE", help="Write the JSON.")
    ] = None,
    markdown_file: Annotated[
        Path | None,
        typer.Option("--markdown-file", metavar="FILE", help="Write the markdown tables."),
    ] = None,
    plot: Annotated[
        Path | None,
        typer.Option(metavar="FILE.png", help="Write foot/hip trajectories overlaid, events."),
    ] = None,
    force: ForceOpt = False,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Compare pose configurations side by side on each VIDEO (decoded once for all).

    Per configuration: model, devices, load time, fps, end-to-end time, detection rate, foot
    jitter in quiet standing, every jump's times and metrics, differences from the first
    one. A configuration that cannot run is a column saying why; the others are still
    measured.
    """
    from kinemotion_cli import compare as cmp
    from kinemotion_cli.console import print_rich, write_out
    from kinemotion_cli.outputs import refuse_existing, write_text

    set_debug(debug)
    if as_json and as_markdown:
        raise KmoError("--json and --markdown both print on stdout; choose one.")
    configs = cmp.parse_configs(backends, models, devices, modes)
    for p in (json_file, markdown_file, plot):
        if p is not None:
            refuse_existing(p, force)
    bar = ProgressBar.for_terminal(quiet or as_json or as_markdown, "frames")
    try:
        results = cmp.run_compare(
            [str(v) for v in videos],
            configs,
            (lambda v: bar.callback(Path(v).name)) if bar.progress is not None else None,
            model_dir=str(model_dir) if model_dir else None,
            threads=threads,
            jump=jump.value,
            stature_m=height,
        )
    finally:
        bar.close()
    if as_json:
        write_out(cmp.to_json(results) + "\n")
    elif as_markdown:
        write_out(cmp.to_markdown(results))
    else:
        print_rich(cmp.render(results))
    if json_file:
        write_text(json_file, cmp.to_json(results) + "\n", force)
    if markdown_file:
        write_text(markdown_file, cmp.to_markdown(results), force)
    if plot:
        cmp.write_plot(results, plot, force)


@app.command()
def bench(
    quick: Annotated[
        bool, typer.Option("--quick", help="Small sweep (about a minute on two cores).")
    ] = False,
    backends: Annotated[
        str | None,
        typer.Option(help="Comma list of name[:model-or-mode][@device] (see kmo compare)."),
    ] = None,
    devices: Annotated[str | None, typer.Option(help="Devices, e.g. cpu,cuda.")] = None,
    batch: Annotated[
        str | None, typer.Option("--batch", help="Batch sizes, e.g. 1,2,4,8 (rtmpose).")
    ] = None,
    lengths: Annotated[str | None, typer.Option(help="Video lengths: short,long.")] = None,
    video: Annotated[
        Path | None, typer.Option(help="Source video (default: the clip shipped with kmo).")
    ] = None,
    short_frames: Annotated[
        int | None, typer.Option(min=2, help="Frames of the short video (default: all).")
    ] = None,
    long_loops: Annotated[
        int | None, typer.Option(min=2, help="The long video is the short one looped N times.")
    ] = None,
    model_dir: Annotated[
        Path | None,
        typer.Option(envvar="KMO_MODEL_DIR", help="rtmlib models (real or stand-in)."),
    ] = None,
    threads: ThreadsOpt = None,
    as_json: JsonOpt = False,
    as_markdown: Annotated[
        bool, typer.Option("--markdown", help="Print the markdown report on stdout.")
    ] = False,
    markdown_file: Annotated[
        Path | None,
        typer.Option("--markdown-file", "-o", metavar="FILE.md", help="Write the report."),
    ] = None,
    json_file: Annotated[
        Path | None, typer.Option("--json-file", metavar="FILE", help="Write the JSON report.")
    ] = None,
    force: ForceOpt = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress lines.")] = False,
) -> None:
    """Benchmark backends x devices x batch sizes x video lengths; report the figures.

    Each cell runs in a fresh process: seconds, ms/frame, fps, peak memory. The report has
    run metadata, a best-configuration summary and generated notes on anomalies. Without a
    file or stdout option the report goes to kmo-bench.md (and .json).
    """
    from kinemotion_cli import benchreport as br
    from kinemotion_cli.console import write_out
    from kinemotion_cli.outputs import refuse_existing

    if as_json and as_markdown:
        raise KmoError("--json and --markdown both print on stdout; choose one.")

    def ints(text: str | None) -> list[int] | None:
        if text is None:
            return None
        try:
            vals = [int(x) for x in text.split(",") if x.strip()]
        except ValueError:
            raise KmoError(f"--batch: expected numbers like 1,4 (got {text!r}).") from None
        if not vals or min(vals) < 1:
            raise KmoError("--batch: batch sizes must be positive integers.")
        return vals

    def names(text: str | None) -> list[str] | None:
        return [x.strip() for x in text.split(",") if x.strip()] if text else None

    lens = names(lengths)
    if lens and set(lens) - {"short", "long"}:
        raise KmoError("--lengths: use short, long or short,long.")
    overrides = dict(
        backends=names(backends),
        devices=names(devices),
        batches=ints(batch),
        lengths=lens,
        video=str(video) if video else None,
        short_frames=short_frames,
        long_loops=long_loops,
        model_dir=str(model_dir) if model_dir else None,
        threads=threads,
    )
    if quick:
        sweep = br.quick_sweep(**overrides)
    else:
        sweep = br.Sweep(**{k: v for k, v in overrides.items() if v is not None})
    if sweep.backends:
        from kinemotion_cli.compare import parse_configs

        parse_configs(",".join(sweep.backends), None, ",".join(sweep.devices), None)
    to_stdout = as_json or as_markdown
    if markdown_file is None and json_file is None and not to_stdout:
        markdown_file = Path("kmo-bench.md")
        json_file = markdown_file.with_suffix(".json")
    for p in (markdown_file, json_file):
        if p is not None:
            refuse_existing(p, force)
    log = None if quiet else (lambda line: typer.echo(line, err=True))
    doc = br.run_sweep(sweep, log)
    br.write_report(doc, markdown_file, json_file, force)
    if as_json:
        import json

        write_out(json.dumps(doc, indent=1) + "\n")
        return
    if as_markdown:
        write_out(br.to_markdown(doc))
        return
    ok = sum(1 for r in doc["results"] if r["status"] == "ok")
    wrote = " and ".join(str(p) for p in (markdown_file, json_file) if p is not None)
    typer.echo(
        f"kmo bench: {ok}/{len(doc['results'])} configurations measured in "
        f"{doc['metadata']['wall_s']} s; wrote {wrote}"
    )
    for length, b in doc["best"].items():
        typer.echo(f"  {length}: fastest {b['fastest']['config']} ({b['fastest']['fps']} fps)")
    for n in doc["notes"]:
        typer.echo(f"  note: {n}")


@app.command()
def doctor(
    model_dir: ModelDirOpt = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the findings as JSON on stdout.")
    ] = False,
    debug: DebugOpt = False,
) -> None:
    """Check this environment: versions, execution providers (which really load), CUDA/cuDNN
    libraries, model files (SHA-256; real, stand-in or unknown) and the video decoder.

    Each problem found is printed with a one-line fix. Exit code 0 whenever the check ran:
    problems are findings, not failures.
    """
    from kinemotion_cli import doctor as doc
    from kinemotion_cli.console import print_rich, write_out

    set_debug(debug)
    report = doc.collect(str(model_dir) if model_dir else None)
    if as_json:
        import json

        write_out(json.dumps(report, indent=1) + "\n")
    else:
        print_rich(doc.render(report))


def _class_names(exc: BaseException) -> set[str]:
    return {c.__name__ for c in type(exc).__mro__}


def _interrupted() -> None:
    """Ctrl-C: one line, exit 130; further Ctrl-C presses are ignored while exiting."""
    import contextlib
    import signal

    with contextlib.suppress(ValueError, OSError):  # ValueError: not the main thread
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.stderr.write("kmo: interrupted\n")
    sys.stderr.flush()
    sys.exit(int(ExitCode.INTERRUPTED))


def main() -> None:
    """Console-script entry point: map every failure to a documented exit code.

    Every failure prints exactly one line on stderr (``kmo: error: ...``); a traceback is
    shown only with ``--debug``. Click/Typer exceptions are recognised by class name because
    recent Typer versions vendor Click (``typer._click``) instead of importing ``click``.
    """
    import warnings

    from kinemotion_cli.console import STATE, one_line

    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    silence_native_stderr()  # ``--debug`` restores it once the options are parsed
    warnings.simplefilter("ignore")  # library warnings would break the one-line contract
    try:
        code = app(standalone_mode=False)
    except KmoError as exc:  # a failure before any video was processed (options, inputs)
        kmo_error(exc)
        sys.exit(int(exc.code))
    except KeyboardInterrupt:
        _interrupted()
    except typer.Exit as exc:
        if exc.exit_code == ExitCode.INTERRUPTED:
            _interrupted()
        sys.exit(exc.exit_code)
    except BrokenPipeError:  # e.g. `kmo analyze ... | head`: nobody reads the output
        import contextlib

        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the final flush
        sys.exit(int(ExitCode.INTERNAL))
    except Exception as exc:  # noqa: BLE001 - last line of defence: no traceback for users
        names = _class_names(exc)
        if "Abort" in names:
            _interrupted()
        if "NoArgsIsHelpError" in names:
            sys.stderr.write(exc.format_message().rstrip() + "\n")  # the help text
            sys.exit(int(ExitCode.BAD_INPUT))
        if "ClickException" in names:
            hint = ""
            ctx = getattr(exc, "ctx", None)
            if "UsageError" in names and ctx is not None:
                hint = f" (see '{ctx.command_path} --help')"
            message = one_line(exc.format_message())
            sys.stderr.write(f"kmo: error: {message}{hint}\n")
            sys.exit(int(getattr(exc, "exit_code", ExitCode.BAD_INPUT) or ExitCode.BAD_INPUT))
        if STATE["debug"]:
            import traceback

            traceback.print_exc()
        sys.stderr.write(
            f"kmo: internal error: {type(exc).__name__}: {one_line(str(exc))[:300]}; please "
            "report it (run with --debug for details).\n"
        )
        sys.exit(int(ExitCode.INTERNAL))
    if code == ExitCode.INTERRUPTED:  # Typer turns Ctrl-C into a plain exit code 130
        _interrupted()
    sys.exit(int(code or 0))
