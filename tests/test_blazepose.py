"""BlazePose on LiteRT (``backends/blazepose.py``): the steps around the two models, and the
whole against MediaPipe's own PoseLandmarker on the same frames."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from kinemotion_cli.backends import BackendOptions, create
from kinemotion_cli.backends import blazepose as bp
from kinemotion_cli.backends.mediapipe import tasks_landmarker, tasks_poses
from kinemotion_cli.errors import KmoError

ROOT = Path(__file__).resolve().parents[1]
TASK = ROOT / "kinemotion_cli" / "models" / "pose_landmarker_full.task"
SAMPLE = ROOT / "sample_videos" / "cmj_60fps.mp4"


def test_the_detector_has_one_anchor_per_output_row() -> None:
    a = bp.ANCHORS
    assert a.shape == (2254, 2)
    assert np.allclose(a[0], [0.5 / 28, 0.5 / 28]) and np.allclose(a[1], a[0])  # 2 per cell
    # the three stride-32 layers share one 7 x 7 grid, six anchors per cell
    assert np.allclose(a[-6:], [[6.5 / 7, 6.5 / 7]] * 6)
    assert len(np.unique(a[1568 + 392 :], axis=0)) == 49


def test_an_upright_person_gets_an_upright_square_crop() -> None:
    roi = bp.roi_from_points(np.array([100.0, 200.0]), np.array([100.0, 120.0]))
    assert roi.rotation == pytest.approx(0.0)
    assert roi.w == roi.h == pytest.approx(2 * 80 * bp.ROI_SCALE)
    lying = bp.roi_from_points(np.array([100.0, 200.0]), np.array([180.0, 200.0]))
    assert abs(lying.rotation) == pytest.approx(math.pi / 2)


@pytest.mark.parametrize("rotation", [0.0, 0.4, -2.0])
def test_a_point_cut_out_with_a_crop_projects_back_to_where_it_was(rotation: float) -> None:
    image = np.zeros((300, 400, 3), np.uint8)
    image[140:143, 250:253] = 255  # a bright dot centred on pixel (251, 141)
    roi = bp.Roi(230.0, 150.0, 120.0, 120.0, rotation)
    out = bp.crop(image, roi, 256)
    ys, xs = np.nonzero(out[..., 0] > 60)
    w = out[ys, xs, 0].astype(float)
    found = np.array([[(xs * w).sum() / w.sum(), (ys * w).sum() / w.sum()]]) / 256
    assert np.allclose(bp.project(found, roi)[0], [251, 141], atol=0.2)


def test_overlapping_detections_are_averaged_by_score_and_a_distant_one_kept() -> None:
    boxes = np.zeros((3, 12))
    boxes[0, :4] = [0.50, 0.5, 0.2, 0.4]
    boxes[1, :4] = [0.52, 0.5, 0.2, 0.4]
    boxes[2, :4] = [0.10, 0.5, 0.1, 0.2]
    out = bp.weighted_nms(np.array([0.6, 0.9, 0.95]), boxes)
    assert len(out) == 2
    assert out[0][0] == pytest.approx(0.10)  # best first
    assert out[1][0] == pytest.approx((0.6 * 0.50 + 0.9 * 0.52) / 1.5)


def test_a_landmark_moves_to_a_confident_heat_peak_only() -> None:
    heat = np.full((64, 64, 2), -10.0, np.float32)
    heat[30, 40, 0] = 5.0  # landmark 0: a sharp peak at column 40, row 30
    heat[20, 20, 1] = -1.0  # landmark 1: below 0.5 confidence everywhere
    points = np.array([[41.5 / 64, 31.2 / 64], [21 / 64, 22 / 64]])
    out = bp.refine_on_heatmap(points, heat)
    assert out[0] == pytest.approx([40 / 64, 30 / 64], abs=0.002)
    assert np.array_equal(out[1], points[1])


def _frames(n: int) -> list[np.ndarray]:
    import av

    with av.open(str(SAMPLE)) as c:
        out = []
        for f in c.decode(video=0):
            out.append(f.to_ndarray(format="rgb24"))
            if len(out) == n * 20:
                break
    return out[::20]


def test_litert_finds_the_landmarks_mediapipe_finds() -> None:
    landmarker = tasks_landmarker(TASK, 2)
    model = bp.BlazePose(TASK)
    diffs = []
    for image in _frames(6):
        theirs, ours = tasks_poses(landmarker, image), model.infer(image, 2)
        assert len(ours) == len(theirs) == 1
        diffs.append(np.hypot(*(theirs[0][:, :2] - ours[0][:, :2]).T))
    landmarker.close()
    d = np.concatenate(diffs)
    assert np.median(d) < 0.5 and np.percentile(d, 95) < 2.0  # px, in a 540x960 frame


def test_the_runtime_is_mediapipes_graph_unless_litert_is_asked_and_a_bad_name_is_refused(
    monkeypatch,
) -> None:
    monkeypatch.delenv("KMO_MEDIAPIPE_RUNTIME", raising=False)
    backend, _ = create("mediapipe", BackendOptions(model="lite", quiet=True))
    assert backend.info["runtime"] == "tasks"
    backend.close()
    monkeypatch.setenv("KMO_MEDIAPIPE_RUNTIME", "litert")
    backend, _ = create("mediapipe", BackendOptions(model="lite", quiet=True))
    assert backend.info["runtime"] == "litert"
    people = backend.infer(_frames(1)[0], 0.0)
    assert len(people) == 1 and people[0].shape == (26, 3)
    backend.close()
    monkeypatch.setenv("KMO_MEDIAPIPE_RUNTIME", "gpu")
    with pytest.raises(KmoError, match="not a MediaPipe runtime"):
        create("mediapipe", BackendOptions(model="lite", quiet=True))
