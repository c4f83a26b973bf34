"""The command line: choices from the registries, one meaning of the output flags in every
command (--json/--csv/--markdown print on stdout, --json-file/--csv-file/--markdown-file write
files), exit code 7 and --accept-low-confidence."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from kinemotion_cli import __version__
from kinemotion_cli.backends import BACKEND_CHOICES
from kinemotion_cli.errors import ExitCode
from kinemotion_cli.jumps import JUMP_CHOICES
from kinemotion_cli.report import CSV_COLUMNS
from tests.conftest import SAMPLE, main_in_process, one_error_line, run_kmo


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_version() -> None:
    p = run_kmo("--version", timeout=60)
    assert p.returncode == 0 and p.stdout == f"kmo {__version__}\n"


def test_help_lists_the_registries_and_output_flags() -> None:
    text = _flat(run_kmo("analyze", "--help", timeout=60).stdout)
    for choice in (*JUMP_CHOICES, *BACKEND_CHOICES):
        assert choice in text, choice
    assert "rj = rebound jump" in text and "dj = drop jump" in text
    for flag in ("--json", "--csv", "--json-file FILE", "--csv-file FILE", "--plot", "--out DIR"):
        assert flag in text, flag
    compare = _flat(run_kmo("compare", "--help", timeout=60).stdout)
    for flag in ("--json", "--markdown", "--json-file FILE", "--markdown-file FILE", "--plot"):
        assert flag in compare, flag
    # VIDEO mode was measured 6-18 ms late on every event: kmo offers IMAGE mode only
    assert "--running-mode" not in text and "--running-mode" not in compare


# --------------------------------------------------------------------------- exit code 7


def test_low_confidence_exit_code_through_the_cli(monkeypatch, capsys) -> None:  # noqa: ANN001
    from kinemotion_cli import batch

    obj = {
        "schema_version": 2,
        "status": "ok",
        "jumps": [],
        "quality": {"verdict": "low confidence"},
    }

    def process(job, settings, stage=None):  # noqa: ANN001, ANN202
        return batch.Outcome(job.index, {**obj, "video": str(job.video)}, 0)

    monkeypatch.setattr(batch, "process", process)
    assert main_in_process(monkeypatch, "analyze", str(SAMPLE), "--json") == ExitCode.LOW_CONFIDENCE
    out, err = capsys.readouterr()
    assert json.loads(out)["status"] == "ok"  # the numbers are printed all the same
    assert err.startswith("kmo: low confidence:") and len(err.splitlines()) == 1
    assert (
        main_in_process(monkeypatch, "analyze", str(SAMPLE), "--json", "--accept-low-confidence")
        == 0
    )
    assert capsys.readouterr().err == ""


def _damaged_copy(folder: Path) -> Path:
    """The sample with 64 bytes flipped 60 % into its frame data: FFmpeg conceals the error
    (the pictures still decode) from 1.68 s on, across takeoff and landing."""
    data = bytearray(SAMPLE.read_bytes())
    at = data.find(b"mdat") - 4
    size = int.from_bytes(data[at : at + 4], "big")
    pos = at + 8 + int(0.6 * (size - 8))
    for j in range(pos, pos + 64):
        data[j] ^= 0x5A
    out = folder / "damaged.mp4"
    out.write_bytes(bytes(data))
    return out


@pytest.mark.e2e
def test_damaged_video_is_measured_with_low_confidence_exit_7(tmp_path) -> None:
    video = _damaged_copy(tmp_path)
    p = run_kmo("analyze", str(video), "--json")
    assert p.returncode == ExitCode.LOW_CONFIDENCE, p.stderr
    assert one_error_line(p.stderr).startswith(f"kmo: low confidence: {video}")
    obj = json.loads(p.stdout)
    q = obj["quality"]
    assert obj["status"] == "ok" and q["verdict"] == "low confidence"
    assert q["concealed_frames"] >= 1 and q["damaged_frames"]
    assert any(r.startswith("damaged video") for r in q["reasons"])
    (j,) = obj["jumps"]
    for key in ("movement_start_s", "lowest_point_s"):  # before the damage: measured
        assert j["events"][key] is not None, key
    for key in ("takeoff_s", "landing_s"):  # inside it: withheld, with the reason
        assert j["events"][key] is None, key
        assert j["event_methods"][key].startswith("not measured: damaged video frames")
    assert set(j["metrics"].values()) == {None}
    ok = run_kmo("analyze", str(video), "--json", "--accept-low-confidence")
    assert ok.returncode == 0 and ok.stderr == "" and ok.stdout == p.stdout


# --------------------------------------------------------------------------- output flags


@pytest.mark.e2e
def test_analyze_csv_flag_prints_csv_on_stdout() -> None:
    p = run_kmo("analyze", str(SAMPLE), "--csv")
    assert p.returncode == 0 and p.stderr == ""
    assert p.stdout.splitlines()[0] == ",".join(CSV_COLUMNS)
    (row,) = list(csv.DictReader(io.StringIO(p.stdout)))
    assert row["jump_index"] == "1" and row["jump_type"] == "cmj" and row["status"] == "ok"
    assert abs(float(row["flight_time_s"]) - 0.5) < 0.01


@pytest.mark.e2e
def test_compare_json_prints_only_json() -> None:
    p = run_kmo("compare", str(SAMPLE), "--backends", "mediapipe:lite,mediapipe:full", "--json")
    assert p.returncode == 0, p.stderr
    assert p.stderr == ""  # no progress, no notes
    doc = json.loads(p.stdout)  # the whole of stdout is one JSON document
    assert doc["schema"] == "kmo.compare/2"
    (video,) = doc["videos"]
    confs = video["configurations"]
    assert [c["label"] for c in confs] == ["mediapipe:lite", "mediapipe:full"]
    for c in confs:
        assert c["status"] == "ok" and [j["jump_type"] for j in c["jumps"]] == ["cmj"]
        assert abs(c["jumps"][0]["values"]["flight_time_s"] - 0.5) < 0.01
    assert confs[0]["jumps"][0]["diff_from_first"]["flight_time_s"] == 0.0


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    """The first 40 frames of the sample: standing only, cheap to compare."""
    from kinemotion_cli.bench import loop_video

    out = tmp_path_factory.mktemp("clip") / "standing.mp4"
    loop_video(str(SAMPLE), str(out), 1, frames=40)
    return out


@pytest.mark.e2e
def test_compare_markdown_and_files(clip, tmp_path) -> None:
    args = ("compare", str(clip), "--backends", "mediapipe:lite")
    md = run_kmo(*args, "--markdown")
    assert md.returncode == 0 and md.stderr == ""
    assert md.stdout.startswith("# kmo compare") and "| jumps found | 0 |" in md.stdout
    jf, mf = tmp_path / "c.json", tmp_path / "c.md"
    p = run_kmo(*args, "--json-file", str(jf), "--markdown-file", str(mf))
    assert p.returncode == 0, p.stderr
    assert "mediapipe:lite" in p.stdout and not p.stdout.lstrip().startswith(("{", "#"))
    assert json.loads(jf.read_text())["videos"][0]["frames"] == 40
    written = mf.read_text()  # the same document (its timings differ from run to run)
    assert written.startswith("# kmo compare") and "| jumps found | 0 |" in written
    again = run_kmo(*args, "--json-file", str(jf))
    assert again.returncode == ExitCode.BAD_INPUT and "--force" in one_error_line(again.stderr)
    assert run_kmo(*args, "--json-file", str(jf), "--force").returncode == 0


def test_the_command_line_starts_without_the_heavy_libraries() -> None:
    """`kmo --help` and `--version` import neither SciPy, nor a pose library, nor OpenCV:
    the analysis loads SciPy in the background while the video is inferred."""
    import subprocess
    import sys

    heavy = ("scipy", "mediapipe", "cv2", "onnxruntime", "av")
    code = f"import sys, kinemotion_cli.cli; print([m for m in {heavy!r} if m in sys.modules])"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"
