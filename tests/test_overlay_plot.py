"""Overlay video and trajectory plot: decoded back and checked against the input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from kinemotion_cli.errors import ExitCode, KmoError
from kinemotion_cli.outputs import atomic_path, ensure_dir, write_text
from kinemotion_cli.overlay import Annotator, phase_at
from tests.conftest import measured_from_series, render_once, run_kmo
from tests.landmark_series import series

SPEC = dict(jump="cmj", fps=30, duration_s=3.0)


def _decode(path: Path) -> tuple[list[float], list[np.ndarray], list[int]]:
    """Presentation times (from the first frame), RGB frames and rotation flags via PyAV."""
    import av

    with av.open(str(path)) as c:
        s = c.streams.video[0]
        frames = list(c.decode(s))
    t0 = frames[0].time
    return (
        [f.time - t0 for f in frames],
        [f.to_ndarray(format="rgb24") for f in frames],
        [int(getattr(f, "rotation", 0) or 0) for f in frames],
    )


def _upright_input(path: Path) -> tuple[list[float], list[np.ndarray]]:
    from kinemotion_cli.video import iter_frames, probe

    frames = list(iter_frames(str(path), probe(str(path))))
    return [f.t for f in frames], [f.image for f in frames]


def _similar(a: np.ndarray, b: np.ndarray) -> float:
    """Correlation of two downscaled grey images (1 = identical layout)."""
    import cv2

    ga, gb = (
        cv2.resize(cv2.cvtColor(x, cv2.COLOR_RGB2GRAY), (54, 96)).astype(float).ravel()
        for x in (a, b)
    )
    return float(np.corrcoef(ga, gb)[0, 1])


def _check_overlay(src: Path, overlay: Path) -> None:
    import cv2

    t_in, img_in = _upright_input(src)
    t_out, img_out, rot = _decode(overlay)
    assert len(img_out) == len(img_in)
    assert img_out[0].shape == img_in[0].shape == (960, 540, 3)  # upright portrait
    assert set(rot) == {0}  # pixels are upright: no display-matrix flag
    np.testing.assert_allclose(t_out, t_in, atol=1e-4)
    for k in (0, len(img_in) // 2, len(img_in) - 1):
        assert _similar(img_out[k], img_in[k]) > 0.6  # same picture, same orientation
    assert np.abs(img_out[5].astype(int) - img_in[5].astype(int)).mean() > 1  # annotated
    cap = cv2.VideoCapture(str(overlay))
    n, shape = 0, None
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        n, shape = n + 1, frame.shape
    cap.release()
    assert n == len(img_in) and shape == (960, 540, 3)
    data = overlay.read_bytes()
    assert 0 <= data.find(b"moov") < data.find(b"mdat")  # +faststart: index first
    import av

    with av.open(str(overlay)) as c:
        cc = c.streams.video[0].codec_context
        assert (cc.name, cc.pix_fmt) == ("h264", "yuv420p")


def _check_png(path: Path) -> None:
    import cv2

    img = cv2.imread(str(path))
    assert img is not None and img.shape == (700, 1000, 3)
    assert img.std() > 20  # not blank
    assert len(np.unique(img.reshape(-1, 3), axis=0)) > 100  # lines, shading, text


@pytest.mark.e2e
def test_cli_overlay_and_plot(gt_dir, tmp_path) -> None:
    src = render_once(gt_dir, "ov_cmj_30", **SPEC)
    ov, png = tmp_path / "o.mp4", tmp_path / "p.png"
    proc = run_kmo("analyze", str(src), "--json", "--overlay", str(ov), "--plot", str(png))
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.splitlines()) == 1 and json.loads(proc.stdout)["status"] == "ok"
    _check_overlay(src, ov)
    _check_png(png)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp files left
    again = run_kmo("analyze", str(src), "--overlay", str(ov), "--quiet")
    assert again.returncode == int(ExitCode.BAD_INPUT)
    assert str(ov) in again.stderr and "--force" in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1


@pytest.mark.e2e
def test_overlay_of_rotated_input_is_upright(gt_dir, tmp_path) -> None:
    from kinemotion_cli.overlay import write_overlay
    from kinemotion_cli.pipeline import PoseSpec, analyze_video
    from kinemotion_cli.plot import write_plot

    src = render_once(gt_dir, "ov_cmj_30_rot", rotation=-90, **SPEC)
    a = analyze_video(str(src), PoseSpec("mediapipe"))
    assert a.video.rotation_deg in (90, 270)
    n = write_overlay(a, tmp_path / "rot.mp4")
    assert n == len(a.decode.times)
    _check_overlay(src, tmp_path / "rot.mp4")
    write_plot(a, tmp_path / "rot.png")
    _check_png(tmp_path / "rot.png")
    with pytest.raises(KmoError) as err:
        write_plot(a, tmp_path / "rot.png")
    assert err.value.code == ExitCode.BAD_INPUT and "--force" in err.value.message
    before = (tmp_path / "rot.png").stat().st_mtime_ns
    write_plot(a, tmp_path / "rot.svg", force=True)
    assert (tmp_path / "rot.svg").read_text().lstrip().startswith("<?xml")
    assert (tmp_path / "rot.png").stat().st_mtime_ns == before


def test_phase_at() -> None:
    spans = [(0.0, 1.0, "standing"), (1.0, 1.5, "countermovement"), (1.5, 2.0, "flight")]
    assert phase_at(spans, 0.0) == "standing" and phase_at(spans, 1.0) == "countermovement"
    assert phase_at(spans, 1.99) == "flight"
    assert phase_at(spans, 5.0) == "flight"  # after the last span: the last phase


@pytest.fixture(scope="module")
def three_jumps():  # noqa: ANN201
    more = [dict(jump="rebound", flight_time=0.45, contact_s=0.2)]
    t, lm, truth = series("drop_jump", 60, noise_px=0.3, jumps=more)
    return measured_from_series(t, lm, 60), truth


def test_annotator_per_jump_metrics_and_phases(three_jumps) -> None:
    m, truth = three_jumps
    ann = Annotator(m)
    assert sorted(ann.metrics) == [1, 2] and ann.several
    for k, tj in enumerate(truth["jumps"], start=1):  # each jump's own flight time, in ms
        (line,) = [x for x in ann.metrics[k] if x.startswith("flight time: ")]
        shown = float(line.removeprefix("flight time: ").removesuffix(" ms"))
        assert abs(shown - 1000 * tj["metrics"]["flight_time_s"]) <= 2
    assert any(line.startswith("contact time:") for line in ann.metrics[2])
    for tj in truth["jumps"]:
        mid = (tj["events"]["takeoff_s"] + tj["events"]["landing_s"]) / 2
        assert phase_at(ann.spans, mid) == "flight"
    assert phase_at(ann.spans, 0.1) == "on box"
    img = np.zeros((1920, 1080, 3), np.uint8)
    i = int(np.searchsorted(m.decode.times, 1.0))
    out = ann.draw(img.copy(), i, float(m.decode.times[i]))
    assert out.shape == img.shape and out.dtype == np.uint8 and out.any()


def test_plot_of_several_jumps(three_jumps, tmp_path) -> None:
    from kinemotion_cli.plot import write_plot

    m, _ = three_jumps
    write_plot(m, tmp_path / "p.png")
    _check_png(tmp_path / "p.png")
    write_plot(m, tmp_path / "p.pdf")
    assert (tmp_path / "p.pdf").read_bytes()[:5] == b"%PDF-"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.pdf", "p.png"]  # no temp files


def test_atomic_write_leaves_old_file_on_error(tmp_path) -> None:
    target = tmp_path / "r.json"
    write_text(target, "old")
    with pytest.raises(RuntimeError), atomic_path(target, force=True) as tmp:
        tmp.write_text("half")
        raise RuntimeError("boom")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]
    with pytest.raises(KmoError) as err:
        write_text(target, "new")
    assert err.value.code == ExitCode.BAD_INPUT and str(target) in err.value.message
    write_text(target, "new", force=True)
    assert target.read_text() == "new"


def test_unwritable_output_dir_is_one_line_error(tmp_path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(KmoError) as err:
        ensure_dir(blocker / "sub")
    assert err.value.code == ExitCode.BAD_INPUT and "\n" not in err.value.message
