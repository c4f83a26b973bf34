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


def _progress(quiet: bool):  # noqa: ANN202
    """A rich progress bar on stderr, only for a terminal and without --quiet."""
    if quiet or not sys.stderr.isatty():
        return None
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} frames"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )


@app.command()
def analyze(
    videos: Annotated[list[Path], typer.Argument(help="Video file(s) to measure.")],
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
        typer.Option(help="rtmpose/rtmo model size: lightweight|balanced|performance."),
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
    batch: Annotated[int, typer.Option(min=1, help="rtmpose: pose crops per batch (GPU).")] = 1,
    height: Annotated[
        float | None,
        typer.Option(
            "--height", min=0.5, max=2.6, help="Athlete stature in metres (sets the scale)."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per video.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="CSV with one row per video.")] = False,
    timings: Annotated[bool, typer.Option(help="Add processing times to JSON.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress or notes.")] = False,
    debug: Annotated[bool, typer.Option(help="Show tracebacks for errors.")] = False,
) -> None:
    """Measure the jump in each VIDEO: events, flight time, height, contact time, RSI."""
    from kinemotion_cli import report
    from kinemotion_cli.backends import BackendOptions
    from kinemotion_cli.pipeline import analyze_video

    STATE["debug"] = debug
    if as_json and as_csv:
        raise KmoError("choose one of --json and --csv.")
    options = BackendOptions(
        model=model.value if model else None,
        mode=mode.value,
        device=device.value,
        model_dir=str(model_dir) if model_dir else None,
        running_mode=running_mode.value,
        threads=threads,
        det_every=det_every,
        batch=batch,
        quiet=quiet or as_json or as_csv,
    )
    if as_csv:
        sys.stdout.write(report.csv_header())
    worst = ExitCode.OK
    failures = 0
    for path in videos:
        bar = _progress(quiet)
        try:
            if bar is not None:
                with bar:
                    task = bar.add_task(path.name, total=None)
                    a = analyze_video(
                        str(path),
                        backend.value,
                        options,
                        jump.value,
                        height,
                        progress=lambda n, total, b=bar, k=task: b.update(
                            k, completed=n, total=total
                        ),
                    )
            else:
                a = analyze_video(str(path), backend.value, options, jump.value, height)
            obj = report.to_dict(a, timings=timings)
        except KmoError as exc:
            failures += 1
            worst = exc.code if worst == ExitCode.OK else worst
            _error(exc)
            obj = report.error_dict(str(path), exc.message, exc.code)
            if as_json:
                sys.stdout.write(report.to_json(obj) + "\n")
            elif as_csv:
                sys.stdout.write(report.csv_row(obj))
            continue
        if as_json:
            sys.stdout.write(report.to_json(obj) + "\n")
        elif as_csv:
            sys.stdout.write(report.csv_row(obj))
        else:
            from rich.console import Console

            Console().print(report.render_table(obj))
        sys.stdout.flush()
    if failures and failures < len(videos):
        raise typer.Exit(int(ExitCode.PARTIAL))
    if worst != ExitCode.OK:
        raise typer.Exit(int(worst))


def _error(exc: KmoError) -> None:
    if STATE["debug"]:
        traceback.print_exc()
    sys.stderr.write(f"kmo: error: {exc.message}\n")
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


def main() -> None:
    """Console-script entry point: map every failure to a documented exit code."""
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "--debug" not in sys.argv:
        _silence_native_stderr()
    try:
        code = app(standalone_mode=False)
    except KmoError as exc:
        _error(exc)
        sys.exit(int(exc.code))
    except KeyboardInterrupt:
        sys.stderr.write("kmo: interrupted\n")
        sys.exit(int(ExitCode.INTERRUPTED))
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception as exc:  # noqa: BLE001 - last line of defence: no traceback for users
        import click

        if isinstance(exc, click.exceptions.Abort):
            sys.stderr.write("kmo: interrupted\n")
            sys.exit(int(ExitCode.INTERRUPTED))
        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(int(ExitCode.BAD_INPUT))
        if STATE["debug"] or "--debug" in sys.argv:
            traceback.print_exc()
        sys.stderr.write(
            f"kmo: internal error: {type(exc).__name__}: {exc}; please report it "
            "(run with --debug for details).\n"
        )
        sys.exit(int(ExitCode.INTERNAL))
    sys.exit(int(code or 0))
