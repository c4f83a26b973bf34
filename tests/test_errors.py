"""Error taxonomy: documented exit codes, one-line messages, Ctrl-C, internal errors.

The analysis refusals (no jump, mismatch, nobody, ambiguous jumper) are tested where they are
raised (test_jumps.py, test_subject.py); here: the codes themselves and the CLI around them.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kinemotion_cli.errors import ExitCode, KmoError
from tests.conftest import (
    KMO,
    ROOT,
    SAMPLE,
    main_in_process,
    one_error_line,
    readme_exit_codes,
    run_kmo,
    sigint_default,
)


def test_message_is_always_one_line() -> None:
    err = KmoError("two\nlines  here")
    assert err.message == str(err) == "two lines here" and err.code == ExitCode.BAD_INPUT


def test_readme_tables_are_found_and_document_real_codes() -> None:
    tables = readme_exit_codes()
    assert len(tables) == 1 and len(tables[0]) >= 8
    real = {int(c) for c in ExitCode}
    for t in tables:
        assert t <= real, t - real  # nothing documented that kmo does not use


def test_every_exit_code_is_in_the_readme_table() -> None:
    real = {int(c) for c in ExitCode}
    for t in readme_exit_codes():
        assert t == real, real - t


def test_analyze_help_lists_the_exit_codes() -> None:
    p = run_kmo("analyze", "--help", timeout=60)
    text = " ".join(p.stdout.split())
    for code in (0, 2, 3, 4, 5, 6, 7):
        assert re.search(rf"\b{code} [a-z]", text), code
    assert "--accept-low-confidence" in text


# --------------------------------------------------------------------------- CLI


@pytest.mark.parametrize(
    "args",
    [
        ["analyze"],
        ["analyze", "x.mp4", "--bogus"],
        ["analyze", "x.mp4", "--height", "9"],
        ["analyze", "x.mp4", "--jump", "zz"],
        ["analyze", "x.mp4", "--backend", "openpose"],
        ["analyze", "x.mp4", "--max-side", "-5"],
        ["analyze", "x.mp4", "--max-side", "100"],  # below the models' input size
        ["compare", "x.mp4", "--json", "--markdown"],
        ["frobnicate"],
    ],
)
def test_usage_errors_one_line_exit_2(args: list[str]) -> None:
    p = run_kmo(*args, timeout=60)
    assert p.returncode == ExitCode.BAD_INPUT
    assert one_error_line(p.stderr).startswith("kmo: error: ")


def test_max_side_below_the_models_input_says_the_smallest_usable_size() -> None:
    p = run_kmo("analyze", str(SAMPLE), "--max-side", "3", timeout=60)
    assert p.returncode == ExitCode.BAD_INPUT
    assert "at least 256" in one_error_line(p.stderr)


def test_missing_path_json_and_exit_2() -> None:
    p = run_kmo("analyze", "no/such/video.mp4", "--json", timeout=60)
    assert p.returncode == ExitCode.BAD_INPUT
    assert "no such file" in one_error_line(p.stderr)
    assert '"status":"error"' in p.stdout and '"exit_code":2' in p.stdout


@pytest.mark.parametrize("model", ["full", "heavy"])
def test_corrupt_model_file(tmp_path: Path, model: str) -> None:
    """A garbage model in --model-dir: checksum mismatch (full) or load failure (heavy)."""
    (tmp_path / f"pose_landmarker_{model}.task").write_bytes(os.urandom(4096))
    p = run_kmo(
        "analyze", str(SAMPLE), "--json", "--model", model, "--model-dir", str(tmp_path),
        timeout=120,
    )  # fmt: skip
    assert p.returncode == ExitCode.BAD_INPUT, p.stderr
    line = one_error_line(p.stderr)
    assert "corrupt" in line and f"pose_landmarker_{model}.task" in line


def test_corrupt_model_file_on_litert(tmp_path: Path) -> None:
    """A ``.task`` that is no zip, read by the LiteRT runtime (no checksum for heavy)."""
    (tmp_path / "pose_landmarker_heavy.task").write_bytes(os.urandom(4096))
    p = subprocess.run(
        [*KMO, "analyze", str(SAMPLE), "--json", "--model", "heavy", "--model-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
        env={**os.environ, "KMO_MEDIAPIPE_RUNTIME": "litert"},
    )  # fmt: skip
    assert p.returncode == ExitCode.BAD_INPUT, p.stderr
    line = one_error_line(p.stderr)
    assert "corrupt" in line and "pose_landmarker_heavy.task" in line


# The real CLI in a child process whose overlay writer parks after a few frames: the test
# sends SIGINT only once the child has said (a marker file) that it is parked there, so the
# signal always lands while an output is half written, never after kmo finished.
PARKED = """
import pathlib, sys, time
import kinemotion_cli.overlay as overlay
from kinemotion_cli import cli

marker, real = pathlib.Path(sys.argv[1]), overlay.iter_frames

def parked(*args, **kwargs):
    for i, frame in enumerate(real(*args, **kwargs)):
        if i == 5:
            marker.write_text("parked")
            for _ in range(3000):  # Ctrl-C arrives here: short sleeps, because the kernel
                time.sleep(0.1)  # may hand SIGINT to another thread, and Python acts on it
                # only when the main thread runs again (one long sleep would not end)
        yield frame

overlay.iter_frames = parked
sys.argv = ["kmo", *sys.argv[2:]]
cli.main()
"""


@pytest.mark.e2e
def test_ctrl_c_exits_130_without_partial_outputs(tmp_path: Path) -> None:
    """SIGINT while the overlay is being written: exit 130, one line, no output files left."""
    out, marker = tmp_path / "out", tmp_path / "parked"
    work = tmp_path / "work"
    work.mkdir()
    args = ["analyze", str(SAMPLE), "--json", "--out", str(out)]
    args += ["--overlay", str(work / "overlay.mp4"), "--csv-file", str(work / "all.csv")]
    p = subprocess.Popen(
        [sys.executable, "-c", PARKED, str(marker), *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=sigint_default,
    )
    try:
        deadline = time.monotonic() + 300
        while not marker.exists():
            assert p.poll() is None, p.communicate()
            assert time.monotonic() < deadline, "kmo never reached the overlay"
            time.sleep(0.05)
        assert list(work.glob(".overlay.*"))  # the overlay's temporary file is there
        p.send_signal(signal.SIGINT)
        stdout, stderr = p.communicate(timeout=120)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == ExitCode.INTERRUPTED, stderr
    assert one_error_line(stderr) == "kmo: interrupted"
    assert stdout == ""
    left = [f for d in (out, work) if d.exists() for f in d.rglob("*")]
    assert left == [], left


def test_keyboard_interrupt_maps_to_130(monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # noqa: ANN001
    """In-process: a KeyboardInterrupt anywhere in a command gives exit 130 and one line."""

    def boom(*_a, **_k):  # noqa: ANN002, ANN003, ANN202
        raise KeyboardInterrupt

    monkeypatch.setattr("kinemotion_cli.batch.run_batch", boom)
    assert main_in_process(monkeypatch, "analyze", str(SAMPLE)) == ExitCode.INTERRUPTED
    assert capsys.readouterr().err.strip().splitlines()[-1] == "kmo: interrupted"


def test_internal_error_is_one_line(monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # noqa: ANN001
    """An unexpected exception: exit 1, one line, no traceback (without --debug)."""

    def boom(*_a, **_k):  # noqa: ANN002, ANN003, ANN202
        raise ZeroDivisionError("multi\nline")

    monkeypatch.setattr("kinemotion_cli.batch.run_batch", boom)
    assert main_in_process(monkeypatch, "analyze", str(SAMPLE)) == ExitCode.INTERNAL
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert one_error_line(err).startswith("kmo: internal error: ZeroDivisionError: multi line")


def test_debug_shows_the_traceback(monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # noqa: ANN001
    def boom(*_a, **_k):  # noqa: ANN002, ANN003, ANN202
        raise ZeroDivisionError("oops")

    monkeypatch.setattr("kinemotion_cli.batch.run_batch", boom)
    assert main_in_process(monkeypatch, "analyze", str(SAMPLE), "--debug") == ExitCode.INTERNAL
    err = capsys.readouterr().err
    assert "Traceback" in err and err.strip().splitlines()[-1].startswith("kmo: internal error")


def test_kmo_error_before_any_video_keeps_its_code(monkeypatch, capsys) -> None:  # noqa: ANN001
    def refuse(*_a, **_k):  # noqa: ANN002, ANN003, ANN202
        raise KmoError("no video files in this folder.", ExitCode.BAD_INPUT)

    monkeypatch.setattr("kinemotion_cli.batch.run_batch", refuse)
    assert main_in_process(monkeypatch, "analyze", "somewhere/") == ExitCode.BAD_INPUT
    assert one_error_line(capsys.readouterr().err) == "kmo: error: no video files in this folder."
