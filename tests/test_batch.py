"""Batch processing: input expansion, output planning, and a real batch with a broken file."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from kinemotion_cli.batch import expand_inputs, plan, resolve_target
from kinemotion_cli.errors import ExitCode, KmoError
from tests.conftest import SAMPLES, run_kmo

ORDER = ("squat_jump_60fps", "broken", "cmj_60fps", "drop_jump_60fps")  # not sorted on purpose
TYPES = {"cmj_60fps": "cmj", "drop_jump_60fps": "drop_jump", "squat_jump_60fps": "squat_jump"}


def _broken(folder: Path) -> Path:
    """The head of a real MP4: a valid start, no index; kmo must reject it with exit 2."""
    p = folder / "broken.mp4"
    p.write_bytes((SAMPLES / "cmj_60fps.mp4").read_bytes()[:5000])
    return p


def _touch(*paths: Path) -> None:
    for p in paths:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"")


def test_expand_inputs_sorted_by_extension_and_recursive(tmp_path) -> None:
    _touch(
        tmp_path / "b.MP4",
        tmp_path / "a.mov",
        tmp_path / "notes.txt",
        tmp_path / "sub" / "c.mp4",
        tmp_path / "sub" / "deeper" / "d.avi",
    )
    flat = expand_inputs([tmp_path])
    assert [p.name for p in flat] == ["a.mov", "b.MP4"]
    deep = expand_inputs([tmp_path], recursive=True)
    assert [p.relative_to(tmp_path).as_posix() for p in deep] == [
        "a.mov",
        "b.MP4",
        "sub/c.mp4",
        "sub/deeper/d.avi",
    ]
    # Files keep the given order, duplicates are dropped, a missing file is kept (fails later).
    got = expand_inputs([tmp_path / "sub" / "c.mp4", tmp_path, tmp_path / "nope.mp4"])
    assert [p.name for p in got] == ["c.mp4", "a.mov", "b.MP4", "nope.mp4"]
    (tmp_path / "empty").mkdir()
    with pytest.raises(KmoError, match="no video files"):
        expand_inputs([tmp_path / "empty"])


def test_overlay_targets_for_several_videos(tmp_path) -> None:
    v = Path("x/jump1.mp4")
    assert resolve_target("o/{stem}_ov.mp4", v, True, ".overlay.mp4", "--overlay") == Path(
        "o/jump1_ov.mp4"
    )
    assert resolve_target(str(tmp_path), v, True, ".overlay.mp4", "--overlay") == (
        tmp_path / "jump1.overlay.mp4"
    )
    assert resolve_target("one.mp4", v, False, ".overlay.mp4", "--overlay") == Path("one.mp4")
    with pytest.raises(KmoError, match=r"\{stem\}"):
        resolve_target("one.mp4", v, True, ".overlay.mp4", "--overlay")


def test_plan_refuses_existing_outputs_unless_force_or_skip(tmp_path) -> None:
    vids = [tmp_path / "a.mp4", tmp_path / "b.mp4"]
    _touch(*vids)
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.json").write_text(json.dumps({"status": "ok"}))
    (out / "b.json").write_text(json.dumps({"status": "error"}))
    with pytest.raises(KmoError) as err:
        plan(vids, out)
    assert err.value.code == ExitCode.BAD_INPUT
    assert "a.json" in err.value.message and "--force" in err.value.message
    assert [j.skip for j in plan(vids, out, force=True)] == [False, False]
    # Resume: the ok one is skipped, the failed one is redone.
    assert [j.skip for j in plan(vids, out, skip_existing=True)] == [True, False]
    # ... unless its overlay is missing too.
    assert [j.skip for j in plan(vids, out, overlay=str(out), skip_existing=True)] == [
        False,
        False,
    ]
    with pytest.raises(KmoError, match="overwrite its input"):
        plan([vids[0]], overlay=str(vids[0]), force=True)
    other = tmp_path / "sub" / "a.mp4"
    _touch(other)
    with pytest.raises(KmoError, match="same name stem"):
        plan([vids[0], other], tmp_path / "out2")


@pytest.mark.e2e
def test_batch_with_broken_file(tmp_path) -> None:
    broken = _broken(tmp_path)
    videos = [broken if n == "broken" else SAMPLES / f"{n}.mp4" for n in ORDER]
    out, table = tmp_path / "out", tmp_path / "summary.csv"
    args = ("analyze", *map(str, videos), "--workers", "2", "--out", str(out))
    proc = run_kmo(*args, "--csv", str(table), "--json")
    assert proc.returncode == int(ExitCode.PARTIAL), proc.stderr
    assert "Traceback" not in proc.stderr

    # stdout: one JSON line per video, in input order, equal to the per-video files.
    lines = [json.loads(x) for x in proc.stdout.splitlines()]
    assert [Path(o["video"]).stem for o in lines] == list(ORDER)
    for o in lines:
        assert json.loads((out / f"{Path(o['video']).stem}.json").read_text()) == o
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{n}.json" for n in ORDER)

    rows = list(csv.DictReader(io.StringIO(table.read_text())))
    assert [Path(r["video"]).stem for r in rows] == list(ORDER)
    for r in rows:
        stem = Path(r["video"]).stem
        if stem == "broken":
            assert r["status"] == "error" and r["error"] and not r["flight_time_s"]
        else:
            assert r["status"] == "ok" and r["jump_type"] == TYPES[stem]
            assert abs(float(r["flight_time_s"]) - 0.5) < 0.01
    err = [x for x in proc.stderr.splitlines() if x.startswith("kmo: error:")]
    assert err == [x for x in err if x.startswith(f"kmo: error: {broken}: ")] and len(err) == 1
    assert "1 of 4 videos failed" in proc.stderr

    # Existing outputs are refused (one line, exit 2) before any work.
    again = run_kmo(*args, "--csv", str(table), "--quiet")
    assert again.returncode == int(ExitCode.BAD_INPUT)
    assert "--force" in again.stderr and len(again.stderr.strip().splitlines()) == 1

    # Resume: the three measured videos are skipped (files untouched), the broken one retried.
    stamps = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    resumed = run_kmo(*args, "--csv", str(table), "--skip-existing", "--json")
    assert resumed.returncode == int(ExitCode.PARTIAL)
    assert "skipped 3 video(s)" in resumed.stderr
    assert [json.loads(x) for x in resumed.stdout.splitlines()] == lines
    for name, ns in stamps.items():
        assert (out / name).stat().st_mtime_ns == ns or name == "broken.json"
    assert (out / "broken.json").stat().st_mtime_ns != stamps["broken.json"]
    rows2 = list(csv.DictReader(io.StringIO(table.read_text())))
    assert rows2 == rows  # the summary is complete again


@pytest.mark.e2e
def test_all_failed_exit_code_and_force(tmp_path) -> None:
    broken = _broken(tmp_path)
    missing = tmp_path / "missing.mp4"
    table = tmp_path / "s.csv"
    table.write_text("old\n")
    proc = run_kmo("analyze", str(broken), str(missing), "--csv", str(table))
    assert proc.returncode == int(ExitCode.BAD_INPUT)
    assert table.read_text() == "old\n"  # refused, untouched
    assert f"{table}: already exists; use --force" in proc.stderr
    proc = run_kmo("analyze", str(broken), str(missing), "--csv", str(table), "--force")
    assert proc.returncode == int(ExitCode.BAD_INPUT)  # all failed: the first failure's code
    rows = list(csv.DictReader(io.StringIO(table.read_text())))
    assert [r["status"] for r in rows] == ["error", "error"]
    assert f"kmo: error: {missing}: no such file" in proc.stderr
    assert "2 of 2 videos failed" in proc.stderr


@pytest.mark.e2e
def test_csv_on_stdout_and_directory_input(tmp_path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    _broken(folder)
    (folder / "readme.txt").write_text("not a video")
    proc = run_kmo("analyze", str(folder), "--csv", "-")
    assert proc.returncode == int(ExitCode.BAD_INPUT)
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))  # header + one row, nothing else
    assert len(rows) == 1 and rows[0]["status"] == "error"
    assert proc.stdout.splitlines()[0].startswith("video,status,")
    both = run_kmo("analyze", str(folder), "--csv", "-", "--json")
    assert both.returncode == int(ExitCode.BAD_INPUT) and both.stdout == ""
