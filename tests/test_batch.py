"""Batch processing: input expansion, output planning, the run loop (exit codes, outputs,
printing order) in-process with a stand-in for the per-video work, and real batches."""

from __future__ import annotations

import csv
import functools
import io
import json
from pathlib import Path

import pytest

from kinemotion_cli.batch import Config, Settings, expand_inputs, plan, resolve_target, run_batch
from kinemotion_cli.errors import ExitCode, KmoError
from kinemotion_cli.report import CSV_COLUMNS
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
    proc = run_kmo(*args, "--csv-file", str(table), "--json")
    assert proc.returncode == int(ExitCode.PARTIAL), proc.stderr
    assert "Traceback" not in proc.stderr

    # stdout: one JSON line per video, in input order, equal to the per-video files.
    lines = [json.loads(x) for x in proc.stdout.splitlines()]
    assert [Path(o["video"]).stem for o in lines] == list(ORDER)
    for o in lines:
        assert json.loads((out / f"{Path(o['video']).stem}.json").read_text()) == o
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{n}.json" for n in ORDER)

    rows = list(csv.DictReader(io.StringIO(table.read_text())))
    assert [Path(r["video"]).stem for r in rows] == list(ORDER)  # one jump per sample video
    for r in rows:
        stem = Path(r["video"]).stem
        if stem == "broken":
            assert r["status"] == "error" and r["error"] and not r["flight_time_s"]
            assert r["jump_index"] == ""
        else:
            assert r["status"] == "ok" and r["jump_type"] == TYPES[stem]
            assert r["jump_index"] == "1" and r["jumps_found"] == "1"
            assert abs(float(r["flight_time_s"]) - 0.5) < 0.01
    err = [x for x in proc.stderr.splitlines() if x.startswith("kmo: error:")]
    assert err == [x for x in err if x.startswith(f"kmo: error: {broken}: ")] and len(err) == 1
    assert "1 of 4 videos failed" in proc.stderr

    # Existing outputs are refused (one line, exit 2) before any work.
    again = run_kmo(*args, "--csv-file", str(table), "--quiet")
    assert again.returncode == int(ExitCode.BAD_INPUT)
    assert "--force" in again.stderr and len(again.stderr.strip().splitlines()) == 1

    # Resume: the three measured videos are skipped (files untouched), the broken one retried.
    stamps = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    resumed = run_kmo(*args, "--csv-file", str(table), "--skip-existing", "--json")
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
    proc = run_kmo("analyze", str(broken), str(missing), "--csv-file", str(table))
    assert proc.returncode == int(ExitCode.BAD_INPUT)
    assert table.read_text() == "old\n"  # refused, untouched
    assert f"{table}: already exists; use --force" in proc.stderr
    proc = run_kmo("analyze", str(broken), str(missing), "--csv-file", str(table), "--force")
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
    proc = run_kmo("analyze", str(folder), "--csv")
    assert proc.returncode == int(ExitCode.BAD_INPUT)
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))  # header + one row, nothing else
    assert len(rows) == 1 and rows[0]["status"] == "error"
    assert proc.stdout.splitlines()[0].startswith("video,status,jump_index,")
    both = run_kmo("analyze", str(folder), "--csv", "--json")
    assert both.returncode == int(ExitCode.BAD_INPUT)
    assert "--json and --csv both print on stdout" in both.stderr
    (line,) = both.stdout.splitlines()  # --json: one error object, even before any video
    obj = json.loads(line)
    assert obj["status"] == "error" and obj["video"] is None and obj["exit_code"] == 2


# ------------------------------------------------------------------ the run loop, in-process


@functools.cache
def _real_object() -> str:
    """A real result object (one CMJ measured from a landmark series), as JSON."""
    from kinemotion_cli.report import to_dict, to_json
    from tests.conftest import measured_from_series
    from tests.landmark_series import series

    t, lm, _ = series("cmj", 60, noise_px=0.3)
    return to_json(to_dict(measured_from_series(t, lm, 60)))


def _ok(video: str, verdict: str = "ok", jumps: int = 1) -> dict:
    obj = json.loads(_real_object())
    obj["video"] = video
    obj["jumps"] = [{**obj["jumps"][0], "index": i + 1} for i in range(jumps)]
    obj["jumps_found"] = jumps
    for j in obj["jumps"]:
        j["quality"]["verdict"] = verdict
    obj["quality"]["verdict"] = verdict
    return obj


@pytest.fixture()
def videos(tmp_path) -> list[Path]:
    out = []
    for name in ("a.mp4", "b.mp4", "c.mp4"):
        (tmp_path / name).write_bytes(b"")
        out.append(tmp_path / name)
    return out


def _stand_in(monkeypatch, outcomes: dict[str, tuple[dict, int]]) -> list[str]:  # noqa: ANN001
    """Replace the per-video work: ``outcomes`` maps a file name to (result object, code)."""
    from kinemotion_cli import batch

    done: list[str] = []

    def process(job, settings, stage=None):  # noqa: ANN001, ANN202
        done.append(job.video.name)
        obj, code = outcomes[job.video.name]
        return batch.Outcome(job.index, {**obj, "video": str(job.video)}, code)

    monkeypatch.setattr(batch, "process", process)
    return done


def _cfg(videos: list[Path], **kw) -> Config:
    return Config(inputs=list(videos), settings=Settings(), **kw)


def test_low_confidence_exits_7_unless_accepted(monkeypatch, capsys, videos) -> None:
    _stand_in(monkeypatch, {"a.mp4": (_ok("a"), 0), "b.mp4": (_ok("b", "low confidence"), 0),
                            "c.mp4": (_ok("c"), 0)})  # fmt: skip
    assert run_batch(_cfg(videos, as_json=True)) == ExitCode.LOW_CONFIDENCE == 7
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 3  # every result is still printed
    assert err.strip() == (
        f"kmo: low confidence: {videos[1]} (see quality.reasons; --accept-low-confidence exits 0)"
    )
    assert run_batch(_cfg(videos, as_json=True, accept_low_confidence=True)) == 0
    assert capsys.readouterr().err == ""
    assert run_batch(_cfg(videos, as_json=True, quiet=True)) == 7  # quiet: no note, same code
    assert capsys.readouterr().err == ""


def test_failures_take_precedence_over_low_confidence(monkeypatch, capsys, videos) -> None:
    err_obj = {"schema_version": 2, "status": "error", "error": "no jump found", "exit_code": 3}
    _stand_in(monkeypatch, {"a.mp4": (_ok("a", "low confidence"), 0), "b.mp4": (err_obj, 3),
                            "c.mp4": (_ok("c"), 0)})  # fmt: skip
    assert run_batch(_cfg(videos)) == ExitCode.PARTIAL
    err = capsys.readouterr().err
    assert f"kmo: error: {videos[1]}: no jump found" in err and "1 of 3 videos failed" in err
    _stand_in(monkeypatch, {n: (err_obj, 3) for n in ("a.mp4", "b.mp4", "c.mp4")})
    assert run_batch(_cfg(videos)) == ExitCode.NO_JUMP  # all failed: the first failure's code


def test_json_and_csv_files_hold_every_video_in_input_order(monkeypatch, tmp_path, videos) -> None:
    _stand_in(monkeypatch, {"a.mp4": (_ok("a", jumps=2), 0), "b.mp4": (_ok("b"), 0),
                            "c.mp4": (_ok("c"), 0)})  # fmt: skip
    jf, cf = tmp_path / "out" / "all.jsonl", tmp_path / "out" / "all.csv"
    assert run_batch(_cfg(videos, json_file=jf, csv_file=cf, quiet=True)) == 0
    objs = [json.loads(x) for x in jf.read_text().splitlines()]
    assert [Path(o["video"]).name for o in objs] == ["a.mp4", "b.mp4", "c.mp4"]
    rows = list(csv.DictReader(io.StringIO(cf.read_text())))
    assert [(Path(r["video"]).name, r["jump_index"]) for r in rows] == [
        ("a.mp4", "1"), ("a.mp4", "2"), ("b.mp4", "1"), ("c.mp4", "1"),
    ]  # fmt: skip
    with pytest.raises(KmoError, match="already exists"):
        run_batch(_cfg(videos, json_file=jf, quiet=True))  # refused before any work


def test_stdout_formats_and_their_conflicts(monkeypatch, capsys, videos) -> None:
    done = _stand_in(monkeypatch, {n: (_ok(n), 0) for n in ("a.mp4", "b.mp4", "c.mp4")})
    assert run_batch(_cfg(videos, as_csv=True)) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == ",".join(CSV_COLUMNS) and len(out.splitlines()) == 4
    with pytest.raises(KmoError, match="--json and --csv both print on stdout"):
        run_batch(_cfg(videos, as_json=True, as_csv=True))
    with pytest.raises(KmoError, match="--skip-existing needs per-video outputs"):
        run_batch(_cfg(videos, skip_existing=True))
    assert done == ["a.mp4", "b.mp4", "c.mp4"]  # the refusals did no work


def test_table_output_goes_to_stdout_only_for_measured_videos(monkeypatch, capsys, videos) -> None:
    err_obj = {"schema_version": 2, "status": "error", "error": "not a video", "exit_code": 2}
    _stand_in(monkeypatch, {"a.mp4": (_ok("a"), 0), "b.mp4": (err_obj, 2)})
    assert run_batch(_cfg(videos[:2])) == ExitCode.PARTIAL
    out, err = capsys.readouterr()
    assert "Flight time" in out and "not a video" not in out
    assert f"kmo: error: {videos[1]}: not a video" in err
