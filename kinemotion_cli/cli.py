"""Thin Typer commands. All the work happens in the pipeline modules."""

from __future__ import annotations

import os
import sys
import traceback
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from kinemotion_cli import __version__
from kinemotion_cli.errors import ExitCode, KmoError
from kinemotion_cli.models.rtmlib_models import mode_help

MODE_HELP = mode_help()

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode=None,
    help="kmo: measure vertical jumps (CMJ, drop jump, squat jump) from ordinary video.",
)


class Jump(str, Enum):
    auto = "auto"
    cmj = "cmj"
    dj = "dj"
    sj = "sj"


class Backend(str, Enum):
    mediapipe = "mediapipe"
    rtmpose = "rtmpose"
    rtmo = "rtmo"
    auto = "auto"


class Model(str, Enum):
    lite = "lite"
    full = "full"
    heavy = "heavy"


class RunningMode(str, Enum):
    image = "image"
    video = "video"


class Device(str, Enum):
    auto = "auto"
    cpu = "cpu"
    cuda = "cuda"
    coreml = "coreml"
    mps = "mps"


class RtmMode(str, Enum):
    lightweight = "lightweight"
    balanced = "balanced"
    performance = "performance"


STATE = {"debug": False}


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


@app.command()
def analyze(
    videos: Annotated[
        list[Path],
        typer.Argument(help="Video files and/or folders of videos (see --recursive)."),
    ],
    jump: Annotated[Jump, typer.Option("--jump", "-j", help="Jump type; auto classifies.")] = (
        Jump.auto
    ),
    backend: Annotated[Backend, typer.Option("--backend", "-b", help="Pose backend.")] = (
        Backend.mediapipe
    ),
    model: Annotated[
        Model | None, typer.Option(help="MediaPipe model (default full; heavy is downloaded).")
    ] = None,
    running_mode: Annotated[
        RunningMode, typer.Option(help="MediaPipe running mode: image (no lag) or video.")
    ] = RunningMode.image,
    mode: Annotated[
        RtmMode,
        typer.Option(help="rtmpose/rtmo model size (detector + pose, input sizes): " + MODE_HELP),
    ] = RtmMode.balanced,
    device: Annotated[Device, typer.Option(help="Inference device.")] = Device.auto,
    model_dir: Annotated[
        Path | None,
        typer.Option(envvar="KMO_MODEL_DIR", help="Folder with model files (offline machines)."),
    ] = None,
    threads: Annotated[int | None, typer.Option(min=1, help="Inference threads.")] = None,
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
    height: Annotated[
        float | None,
        typer.Option(
            "--height", min=0.5, max=2.6, help="Athlete stature in metres (sets the scale)."
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object per video (one per line).")
    ] = False,
    csv_path: Annotated[
        str | None,
        typer.Option(
            "--csv",
            metavar="PATH",
            help="Write a CSV summary, one row per video, to PATH ('-' prints it on stdout).",
        ),
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
        int, typer.Option("--workers", "-w", min=1, help="Videos measured in parallel.")
    ] = 1,
    skip_existing: Annotated[
        bool,
        typer.Option(
            "--skip-existing",
            help="Resume: skip videos whose outputs (--out JSON 'ok', --overlay, --plot) exist.",
        ),
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing output files.")] = (
        False
    ),
    timings: Annotated[bool, typer.Option(help="Add processing times to JSON.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress or notes.")] = False,
    debug: Annotated[bool, typer.Option(help="Show tracebacks for errors.")] = False,
) -> None:
    """Measure the jump in each VIDEO: events, flight time, height, contact time, RSI.

    Exit codes: 0 all measured; 2 bad input/option or output exists (use --force);
    3 no jump; 4 not measurable; 5 jump type mismatch; 6 batch with some videos failed
    (the others were measured); when every video fails, the first failure's code.
    """
    from kinemotion_cli.backends import BackendOptions
    from kinemotion_cli.batch import Config, Settings, run_batch

    STATE["debug"] = debug
    options = BackendOptions(
        model=model.value if model else None,
        mode=mode.value,
        device=device.value,
        model_dir=str(model_dir) if model_dir else None,
        running_mode=running_mode.value,
        threads=threads,
        det_every=det_every,
        batch=batch,
        quiet=quiet or as_json or csv_path == "-",
    )
    cfg = Config(
        inputs=list(videos),
        settings=Settings(backend.value, options, jump.value, height, timings),
        recursive=recursive,
        workers=workers,
        out_dir=out_dir,
        csv=csv_path,
        as_json=as_json,
        overlay=overlay,
        plot=plot,
        skip_existing=skip_existing,
        force=force,
        quiet=quiet,
        debug=debug,
    )
    code = run_batch(cfg)
    if code != int(ExitCode.OK):
        raise typer.Exit(code)


def _one_line(text: str) -> str:
    """Collapse a message onto one line (restored by the batch engineer; see report)."""
    return " ".join(str(text).split())


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
        str, typer.Option(help="rtmpose/rtmo sizes, comma list of modes: " + MODE_HELP)
    ] = "balanced",
    devices: Annotated[str, typer.Option(help="Devices: auto,cpu,cuda,coreml.")] = "auto",
    running_mode: Annotated[
        RunningMode, typer.Option(help="MediaPipe running mode: image or video.")
    ] = RunningMode.image,
    model_dir: Annotated[
        Path | None,
        typer.Option(envvar="KMO_MODEL_DIR", help="Folder with model files (offline machines)."),
    ] = None,
    threads: Annotated[int | None, typer.Option(min=1, help="Inference threads.")] = None,
    jump: Annotated[Jump, typer.Option("--jump", "-j", help="Jump type; auto classifies.")] = (
        Jump.auto
    ),
    height: Annotated[
        float | None,
        typer.Option("--height", min=0.5, max=2.6, help="Athlete stature in metres."),
    ] = None,
    json_path: Annotated[
        str | None,
        typer.Option("--json", metavar="PATH", help="Write the JSON ('-': stdout, no table)."),
    ] = None,
    markdown: Annotated[
        Path | None, typer.Option("--markdown", metavar="FILE", help="Write markdown tables.")
    ] = None,
    plot: Annotated[
        Path | None,
        typer.Option(metavar="FILE.png", help="Write foot/hip trajectories overlaid, events."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing output files.")] = (
        False
    ),
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress or notes.")] = False,
    debug: Annotated[bool, typer.Option(help="Show tracebacks for errors.")] = False,
) -> None:
    """Compare pose configurations side by side on each VIDEO (decoded once for all).

    Per configuration: model, devices, load time, fps, end-to-end time, detection rate, foot
    jitter in quiet standing, jump times and metrics, differences from the first one. A
    configuration that cannot run is a row saying why; the others are still measured.
    """
    from kinemotion_cli import compare as cmp
    from kinemotion_cli.outputs import refuse_existing, write_text

    STATE["debug"] = debug
    configs = cmp.parse_configs(backends, models, devices, modes)
    for p in (json_path if json_path not in (None, "-") else None, markdown, plot):
        if p is not None:
            refuse_existing(Path(p), force)
    from kinemotion_cli.batch import ProgressBar

    bar = ProgressBar(not (quiet or json_path == "-") and sys.stderr.isatty(), "frames")

    def progress_for(video: str):  # noqa: ANN202
        task = bar.task(Path(video).name)
        return lambda done, total: bar.update(task, completed=done, total=total)

    kwargs = dict(
        model_dir=str(model_dir) if model_dir else None,
        threads=threads,
        running_mode=running_mode.value,
        jump=jump.value,
        stature_m=height,
    )
    try:
        results = cmp.run_compare(
            [str(v) for v in videos],
            configs,
            progress_for if bar.progress is not None else None,
            **kwargs,
        )
    finally:
        bar.close()
    if json_path == "-":
        typer.echo(cmp.to_json(results))
    else:
        from rich.console import Console

        Console(width=None if sys.stdout.isatty() else 160).print(cmp.render(results))
        if json_path:
            write_text(Path(json_path), cmp.to_json(results) + "\n", force)
    if markdown:
        write_text(markdown, cmp.to_markdown(results), force)
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
        Path | None, typer.Option(help="Source video (default: the CMJ sample).")
    ] = None,
    short_frames: Annotated[
        int | None, typer.Option(min=2, help="Frames of the short video (default: all).")
    ] = None,
    long_loops: Annotated[
        int | None, typer.Option(min=2, help="The long video is the short one looped N times.")
    ] = None,
    model_dir: Annotated[
        Path | None,
        typer.Option(envvar="KMO_MODEL_DIR", help="Real rtmlib models (else fakes from tests/)."),
    ] = None,
    threads: Annotated[int | None, typer.Option(min=1, help="Inference threads.")] = None,
    output: Annotated[
        Path, typer.Option("--output", "-o", metavar="FILE.md", help="Markdown report.")
    ] = Path("kmo-bench.md"),
    json_path: Annotated[
        Path | None,
        typer.Option("--json", metavar="FILE", help="JSON report (default: FILE.md -> .json)."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing reports.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress lines.")] = False,
) -> None:
    """Benchmark backends x devices x batch sizes x video lengths; write a markdown report.

    Each cell runs in a fresh process: seconds, ms/frame, fps, peak memory. The report has
    run metadata, a best-configuration summary and generated notes on anomalies.
    """
    from kinemotion_cli import benchreport as br
    from kinemotion_cli.outputs import refuse_existing

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
    json_out = json_path or output.with_suffix(".json")
    refuse_existing(output, force)
    refuse_existing(json_out, force)
    log = None if quiet else (lambda line: typer.echo(line, err=True))
    doc = br.run_sweep(sweep, log)
    br.write_report(doc, output, json_out, force)
    ok = sum(1 for r in doc["results"] if r["status"] == "ok")
    typer.echo(
        f"kmo bench: {ok}/{len(doc['results'])} configurations measured in "
        f"{doc['metadata']['wall_s']} s; wrote {output} and {json_out}"
    )
    for length, b in doc["best"].items():
        typer.echo(f"  {length}: fastest {b['fastest']['config']} ({b['fastest']['fps']} fps)")
    for n in doc["notes"]:
        typer.echo(f"  note: {n}")


def _error(exc: KmoError) -> None:
    """Print a KmoError as one line on stderr (with the traceback under --debug)."""
    if STATE["debug"]:
        traceback.print_exc()
    sys.stderr.write(f"kmo: error: {_one_line(exc.message)}\n")
    sys.stderr.flush()


def _silence_native_stderr() -> None:
    """Send native-library chatter on fd 2 (MediaPipe/absl logs) to /dev/null.

    Python's ``sys.stderr`` keeps writing to the real stderr through a duplicate of fd 2, so
    kmo's own messages and progress bars still show. ``--debug`` keeps everything.
    """
    try:
        real = os.dup(2)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
        sys.stderr = os.fdopen(real, "w", buffering=1, encoding="utf-8", errors="replace")
    except OSError:
        pass


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

    debug = "--debug" in sys.argv
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if not debug:
        _silence_native_stderr()
        warnings.simplefilter("ignore")  # library warnings would break the one-line contract
    try:
        code = app(standalone_mode=False)
    except KmoError as exc:  # a failure before any video was processed (options, inputs)
        _error(exc)
        argv = sys.argv[1:]
        if "analyze" in argv and "--json" in argv and "--csv" not in argv:
            from kinemotion_cli.report import error_dict, to_json

            sys.stdout.write(to_json(error_dict(None, exc.message, exc.code)) + "\n")
            sys.stdout.flush()
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
            message = _one_line(exc.format_message())
            sys.stderr.write(f"kmo: error: {message}{hint}\n")
            sys.exit(int(getattr(exc, "exit_code", ExitCode.BAD_INPUT) or ExitCode.BAD_INPUT))
        if STATE["debug"] or debug:
            traceback.print_exc()
        sys.stderr.write(
            f"kmo: internal error: {type(exc).__name__}: {_one_line(str(exc))[:300]}; please "
            "report it (run with --debug for details).\n"
        )
        sys.exit(int(ExitCode.INTERNAL))
    if code == ExitCode.INTERRUPTED:  # Typer turns Ctrl-C into a plain exit code 130
        _interrupted()
    sys.exit(int(code or 0))
