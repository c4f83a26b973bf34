"""`kmo compare`: configurations, jitter, differences, outputs; constructed inputs."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from kinemotion_cli import compare as cmp
from kinemotion_cli.compare import Config, Row
from kinemotion_cli.errors import KmoError
from kinemotion_cli.landmarks import INDEX
from tests.conftest import SAMPLES, run_kmo, truth_of

FPS = 60.0


def standing(n: int = 180, body: float = 400.0) -> tuple[np.ndarray, np.ndarray]:
    """Times and a still (n, 26, 3) person: head at y=100, feet at y=100+body."""
    t = np.arange(n) / FPS
    lm = np.zeros((n, 26, 3))
    lm[:, :, 0] = 270.0
    lm[:, :, 1] = 300.0
    lm[:, :, 2] = 0.9
    lm[:, INDEX["head"], 1] = 100.0
    lm[:, INDEX["nose"], 1] = 110.0
    lm[:, INDEX["hip"], 1] = 100.0 + 0.53 * body
    for name in cmp.JITTER_LANDMARKS:
        lm[:, INDEX[name], 1] = 100.0 + body
    return t, lm


# ------------------------------------------------------------------ jitter


def test_second_difference_sigma_recovers_white_noise_and_ignores_sway() -> None:
    rng = np.random.default_rng(1)
    t = np.arange(3000) / FPS
    sway = 15.0 * np.sin(2 * np.pi * 0.3 * t)  # slow postural sway, 15 px
    x = 200 + sway + rng.normal(0, 2.0, len(t))
    assert cmp.second_diff_sigma(x) == pytest.approx(2.0, rel=0.06)
    assert cmp.second_diff_sigma(200 + sway) < 0.05  # sway alone is not jitter
    assert np.std(x - 200) > 5  # whereas a plain std would count it
    assert cmp.second_diff_sigma(np.array([1.0, 2.0, np.nan, 4.0])) is None


def test_jitter_per_landmark_in_px_and_percent_of_body() -> None:
    rng = np.random.default_rng(2)
    t, lm = standing(600, body=400.0)
    ankle = INDEX["left_ankle"]
    lm[:, ankle, 0] += rng.normal(0, 1.0, len(t))
    lm[:, ankle, 1] += rng.normal(0, 2.0, len(t))
    lm[:, [INDEX["left_heel"], INDEX["right_heel"]], :2] = np.nan  # e.g. RTMO: no heels
    body = cmp.body_height_px(lm)
    assert body == pytest.approx(400.0, abs=0.5)  # lowest foot point: noisy ankle
    j = cmp.jitter(lm, (0, len(t)), body)
    assert j["left_ankle"]["px"] == pytest.approx(math.sqrt(5), rel=0.08)
    assert j["left_ankle"]["pct_body"] == pytest.approx(100 * math.sqrt(5) / 400, rel=0.08)
    assert j["left_ankle"]["y_px"] > j["left_ankle"]["x_px"]
    assert j["right_ankle"]["px"] == pytest.approx(0.0, abs=1e-9)
    assert j["left_heel"] is None
    g = cmp.group_jitter(j)
    assert g["heels"] is None
    assert g["ankles"]["px"] == pytest.approx(math.sqrt(5) / 2, rel=0.08)  # mean of L and R
    assert g["toes"]["px"] == pytest.approx(0.0, abs=1e-9)


def test_quiet_window_is_the_still_standing_before_the_movement() -> None:
    t, lm = standing(240)
    # From 1.5 s the hips drop 100 px in 0.5 s and the feet leave the floor at 2.5 s.
    move = np.clip((t - 1.5) / 0.5, 0, 1) * 100
    lm[:, INDEX["hip"], 1] += move
    feet = [INDEX[n] for n in cmp.JITTER_LANDMARKS]
    lm[:, feet, 1] -= (np.clip(t - 2.5, 0, None) * 300)[:, None]
    a, b = cmp.quiet_window(t, lm)
    assert t[a] <= 0.1 and 1.3 <= t[b - 1] < 1.5
    a2, b2 = cmp.quiet_window(t, lm, until_s=1.0)
    assert t[b2 - 1] < 1.0 and b2 - a2 >= 0.3 * FPS
    assert cmp.quiet_window(t, lm, until_s=0.2) is None  # shorter than 0.3 s


# ------------------------------------------------------------------ configurations


def test_parse_configs_expands_in_order_without_duplicates() -> None:
    cs = cmp.parse_configs("mediapipe,rtmpose:lightweight@cpu,mediapipe:full", "lite,full")
    assert [c.label for c in cs] == [
        "mediapipe:lite",
        "mediapipe:full",
        "rtmpose:lightweight@cpu",
    ]
    cs = cmp.parse_configs("rtmo", devices="cpu,cuda", modes="balanced")
    assert [c.label for c in cs] == ["rtmo:balanced@cpu", "rtmo:balanced@cuda"]
    for bad in ("mediapipe:huge", "openpose", "", "rtmpose:lite"):
        with pytest.raises(KmoError):
            cmp.parse_configs(bad)
    with pytest.raises(KmoError):
        cmp.parse_configs("mediapipe", models="tiny")


# ------------------------------------------------------------------ differences and outputs


def rows() -> list[Row]:
    a = Row(Config("mediapipe", "lite"), info={"model": "pose_landmarker_lite", "load_s": 0.2})
    a.values = {"flight_time_s": 0.500, "jump_height_m": 0.300, "takeoff_s": 1.70, "rsi": 0.40}
    a.jitter_groups = {"ankles": {"px": 0.5, "pct_body": 0.1}, "heels": None, "toes": None}
    a.jump_type, a.detection_rate = "cmj", 1.0
    b = Row(Config("mediapipe", "full"), info={"model": "pose_landmarker_full", "load_s": 0.3})
    b.values = {"flight_time_s": 0.512, "jump_height_m": 0.285, "takeoff_s": 1.69}
    b.jitter_groups = {"ankles": {"px": 0.8, "pct_body": 0.2}, "heels": None, "toes": None}
    b.jump_type, b.detection_rate = "cmj", 0.98
    c = Row(Config("mediapipe", "lite", "cuda"), status="unavailable", error="CPU only")
    return [a, b, c]


def test_differences_signs_and_units() -> None:
    rs = rows()
    cmp.differences(rs)
    a, b, c = rs
    assert a.diff["flight_time_s"] == 0.0
    assert b.diff["flight_time_s"] == pytest.approx(12.0)  # ms, later = positive
    assert b.diff["takeoff_s"] == pytest.approx(-10.0)  # ms, earlier = negative
    assert b.diff["jump_height_m"] == pytest.approx(-1.5)  # cm
    assert b.diff["jitter_ankles_px"] == pytest.approx(0.3)
    assert "rsi" not in b.diff  # missing on one side: no difference
    assert c.diff == {}


def test_json_and_markdown_structure() -> None:
    rs = rows()
    cmp.differences(rs)
    res = {"video": "x.mp4", "frames": 120, "fps": 60.0, "width": 540, "height": 960}
    res["shared_decode_and_inference_s"], res["rows"] = 3.0, rs
    doc = json.loads(cmp.to_json([res]))
    assert doc["schema"] == "kmo.compare/1"
    (video,) = doc["videos"]
    assert video["video"] == "x.mp4" and len(video["configurations"]) == 3
    full = video["configurations"][1]
    assert full["label"] == "mediapipe:full" and full["model"] == "pose_landmarker_full"
    assert full["diff_from_first"]["flight_time_s"] == pytest.approx(12.0)
    assert set(full) >= {"device_requested", "device_used", "load_s", "timing", "jitter_groups"}
    bad = video["configurations"][2]
    assert bad["status"] == "unavailable" and bad["error"] == "CPU only"

    md = cmp.to_markdown([res])
    lines = md.splitlines()
    header = next(ln for ln in lines if ln.startswith("|  | mediapipe:lite"))
    assert header.count("|") == 5  # quantity column + 3 configurations
    assert any(ln.startswith("| flight time |") and "(+12.0 ms)" in ln for ln in lines)
    assert any(ln.startswith("| jump height |") and "(-1.5 cm)" in ln for ln in lines)
    assert "- [3] mediapipe:lite@cuda: CPU only" in lines
    assert "RMS(second difference)/sqrt(6)" in md


# ------------------------------------------------------------------ the real thing


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """The README's fake models, built by its command (``make fake-models`` runs this)."""
    from tests import onnx_fakes

    folder = tmp_path_factory.mktemp("cmp_models")
    assert onnx_fakes.main(["--out", str(folder), "--mode", "balanced"]) == 0
    return folder


@pytest.mark.e2e
def test_cli_compare_writes_json_markdown_plot(models, tmp_path) -> None:
    video = SAMPLES / "cmj_60fps.mp4"
    out = {k: tmp_path / f"c.{k}" for k in ("json", "md", "png")}
    r = run_kmo(
        "compare",
        str(video),
        "--backends",
        "rtmpose:balanced,rtmo,mediapipe:lite@cuda",
        "--model-dir",
        str(models),
        "--json",
        str(out["json"]),
        "--markdown",
        str(out["md"]),
        "--plot",
        str(out["png"]),
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    assert "rtmpose:balanced" in r.stdout and "flight time" in r.stdout
    assert "Traceback" not in r.stderr
    doc = json.loads(out["json"].read_text())
    rtmpose, rtmo, mp = doc["videos"][0]["configurations"]
    assert rtmpose["status"] == "ok" and rtmpose["device_used"] == "cpu"
    truth = truth_of(video)["metrics"]["flight_time_s"]
    assert rtmpose["values"]["flight_time_s"] == pytest.approx(truth, abs=0.02)
    assert rtmpose["jitter_groups"]["heels"]["px"] < 0.5
    assert rtmo["jitter_groups"]["heels"] is None  # RTMO has no heel landmarks
    assert rtmo["diff_from_first"]["flight_time_s"] == pytest.approx(
        1e3 * (rtmo["values"]["flight_time_s"] - rtmpose["values"]["flight_time_s"]), abs=1e-3
    )
    assert mp["status"] == "unavailable" and "CPU only" in mp["error"]
    assert "| flight time |" in out["md"].read_text()
    assert out["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    again = run_kmo(
        "compare",
        str(video),
        "--backends",
        "rtmo",
        "--model-dir",
        str(models),
        "--plot",
        str(out["png"]),
    )
    assert again.returncode == 2 and "--force" in again.stderr


@pytest.mark.e2e
def test_cli_compare_fake_models_measure_the_drop_jump(models) -> None:
    """One fake-model folder serves every sample scene (here the drop jump with its box)."""
    video = SAMPLES / "drop_jump_60fps.mp4"
    r = run_kmo(
        "compare", str(video), "--backends", "rtmpose,rtmo", "--model-dir", str(models),
        "--json", "-", timeout=300,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    truth = truth_of(video)["metrics"]
    for conf in json.loads(r.stdout)["videos"][0]["configurations"]:
        assert conf["status"] == "ok", conf
        values = conf["values"]
        assert values["flight_time_s"] == pytest.approx(truth["flight_time_s"], abs=0.02)
        assert values["ground_contact_time_s"] == pytest.approx(
            truth["ground_contact_time_s"], abs=0.02
        )
