"""`kmo compare`: configurations, rows from the pipeline, differences per jump, outputs."""

from __future__ import annotations

import dataclasses
import json

import pytest

from kinemotion_cli import compare as cmp
from kinemotion_cli import quality
from kinemotion_cli.compare import Config, Row
from kinemotion_cli.errors import ExitCode, KmoError
from kinemotion_cli.pipeline import PoseRun, PoseSpec
from tests.conftest import SAMPLES, measured_from_series, run_kmo, truth_of
from tests.landmark_series import series

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
    for bad in ("mediapipe:huge", "openpose", "", "rtmpose:lite", "auto"):
        with pytest.raises(KmoError):
            cmp.parse_configs(bad)
    with pytest.raises(KmoError, match="--models"):
        cmp.parse_configs("mediapipe", models="tiny")
    with pytest.raises(KmoError, match="--modes"):
        cmp.parse_configs("rtmo", modes="huge")


def test_spec_of_is_strict_about_devices_and_carries_the_variant() -> None:
    s = cmp.spec_of(Config("mediapipe", "lite"), "models/", 2)
    assert s.backend == "mediapipe" and s.options.model == "lite"
    assert (s.options.model_dir, s.options.threads) == ("models/", 2)
    assert s.options.require_device and s.options.quiet
    assert s.options.dense  # speed and jitter compare frame for frame
    r = cmp.spec_of(Config("rtmpose", "lightweight", "cuda"), None, None)
    assert (r.options.mode, r.options.device, r.options.model) == ("lightweight", "cuda", None)
    assert r.label == "rtmpose:lightweight@cuda" == Config("rtmpose", "lightweight", "cuda").label


# ------------------------------------------------------------------ rows from the pipeline


REBOUNDS = [dict(jump="rebound", flight_time=0.45, contact_s=0.2)]


@pytest.fixture(scope="module")
def measured() -> object:
    t, lm, _ = series("drop_jump", 60, noise_px=0.5, seed=2, jumps=REBOUNDS)
    return measured_from_series(t, lm, 60)


def test_row_of_a_measured_configuration(measured) -> None:
    row = cmp.row_of(Config("mediapipe", "full"), measured)
    assert row.status == "ok" and row.error is None and row.measured is measured
    assert row.detection_rate == 1.0
    assert [j["jump_type"] for j in row.jumps] == ["drop_jump", "rebound"]
    for j, a in zip(row.jumps, measured.analysis.jumps):
        assert j["index"] == a.index
        assert j["values"]["takeoff_s"] == a.events["takeoff_s"].value
        assert j["values"]["flight_time_s"] == a.metrics["flight_time_s"].value
        assert j["values"]["rsi"] == a.metrics[a.type.rsi].value  # the type's declared RSI
        assert j["metrics"] == {k: m.value for k, m in a.metrics.items() if m.ok}
    # one jitter definition: the report's quality and compare give the same numbers
    jit = measured.quality.foot_jitter
    assert row.jitter == jit.per_landmark and row.jitter_groups == jit.groups
    assert (
        row.quiet["start_s"] == jit.start_s and row.quiet["frames"] == jit.window[1] - jit.window[0]
    )
    assert cmp.GROUPS is quality.JITTER_GROUPS


def test_rows_of_unavailable_and_failed_configurations(measured) -> None:
    gone = PoseRun(
        PoseSpec("rtmpose"), "unavailable", "cuda unavailable: no provider", {}, None, (), 0.0, 0
    )
    row = cmp.row_of(Config("rtmpose", "balanced", "cuda"), dataclasses.replace(measured, run=gone))
    assert (row.status, row.error, row.jumps) == (
        "unavailable",
        "cuda unavailable: no provider",
        [],
    )
    failed = dataclasses.replace(
        measured,
        track=None,
        analysis=None,
        quality=None,
        error=KmoError("nobody was detected", ExitCode.NOT_MEASURABLE),
    )
    row = cmp.row_of(Config("mediapipe", "lite"), failed)
    assert row.status == "analysis_failed" and row.error == "nobody was detected"
    assert row.detection_rate == 1.0 and row.jumps == []
    assert row.timing["inference_s"] == measured.run.infer_s


# ------------------------------------------------------------------ differences


def _jump(index: int, values: dict, jump_type: str = "cmj") -> dict:
    return {"index": index, "jump_type": jump_type, "values": values, "metrics": {}}


def rows() -> list[Row]:
    a = Row(Config("mediapipe", "lite"), info={"model": "pose_landmarker_lite", "load_s": 0.2})
    a.jumps = [
        _jump(1, {"flight_time_s": 0.500, "jump_height_m": 0.300, "takeoff_s": 1.70, "rsi": 0.4}),
        _jump(2, {"flight_time_s": 0.450, "takeoff_s": 3.10}),
    ]
    a.jitter_groups = {"ankles": {"px": 0.5, "pct_body": 0.1}, "heels": None, "toes": None}
    a.detection_rate = 1.0
    b = Row(Config("mediapipe", "full"), info={"model": "pose_landmarker_full", "load_s": 0.3})
    b.jumps = [  # found a spurious early jump, then the first one 10 ms early, not the second
        _jump(1, {"flight_time_s": 0.300, "takeoff_s": 0.40}),
        _jump(2, {"flight_time_s": 0.512, "jump_height_m": 0.285, "takeoff_s": 1.69}),
    ]
    b.jitter_groups = {"ankles": {"px": 0.8, "pct_body": 0.2}, "heels": None, "toes": None}
    b.detection_rate = 0.98
    c = Row(Config("mediapipe", "lite", "cuda"), status="unavailable", error="CPU only")
    return [a, b, c]


def test_differences_per_jump_matched_by_takeoff() -> None:
    rs = rows()
    cmp.differences(rs)
    a, b, c = rs
    assert a.diff[0]["flight_time_s"] == 0.0 and len(a.diff) == 2
    assert b.diff[0] == {}  # no jump of the first configuration within 0.25 s
    d = b.diff[1]
    assert d["flight_time_s"] == pytest.approx(12.0)  # ms, longer = positive
    assert d["takeoff_s"] == pytest.approx(-10.0)  # ms, earlier = negative
    assert d["jump_height_m"] == pytest.approx(-1.5)  # cm
    assert "rsi" not in d  # missing on one side: no difference
    assert b.jitter_diff == {"ankles": pytest.approx(0.3)}
    assert c.diff == [] and c.jitter_diff == {}


def _result(rs: list[Row]) -> dict:
    res = {"video": "x.mp4", "frames": 120, "fps": 60.0, "width": 540, "height": 960}
    res["shared_decode_and_inference_s"], res["rows"] = 3.0, rs
    return res


def test_json_structure() -> None:
    rs = rows()
    cmp.differences(rs)
    doc = json.loads(cmp.to_json([_result(rs)]))
    assert doc["schema"] == "kmo.compare/2" == cmp.SCHEMA
    (video,) = doc["videos"]
    assert video["video"] == "x.mp4" and len(video["configurations"]) == 3
    full = video["configurations"][1]
    assert full["label"] == "mediapipe:full" and full["model"] == "pose_landmarker_full"
    assert [j["index"] for j in full["jumps"]] == [1, 2]
    assert full["jumps"][1]["diff_from_first"]["flight_time_s"] == pytest.approx(12.0)
    assert full["jumps"][0]["diff_from_first"] == {}
    assert full["jitter_diff_from_first_px"] == {"ankles": pytest.approx(0.3)}
    assert set(full) >= {"device_requested", "device_used", "load_s", "timing", "jitter_groups"}
    bad = video["configurations"][2]
    assert bad["status"] == "unavailable" and bad["error"] == "CPU only" and bad["jumps"] == []


def test_markdown_structure() -> None:
    rs = rows()
    cmp.differences(rs)
    md = cmp.to_markdown([_result(rs)])
    lines = md.splitlines()
    header = next(ln for ln in lines if ln.startswith("|  | mediapipe:lite"))
    assert header.count("|") == 5  # quantity column + 3 configurations
    assert any(ln.startswith("| jumps found | 2 | 2 | — |") for ln in lines)
    assert any(ln.startswith("| #2 flight time |") and "(+12.0 ms)" in ln for ln in lines)
    assert any(ln.startswith("| #2 jump height |") and "(-1.5 cm)" in ln for ln in lines)
    assert any(ln.startswith("| jitter ankles |") and "(+0.30)" in ln for ln in lines)
    assert "- [3] mediapipe:lite@cuda: CPU only" in lines
    assert "RMS(second difference)/sqrt(6)" in md


def test_compare_of_one_jump_has_no_jump_numbers_in_the_labels() -> None:
    one = Row(Config("mediapipe", "full"), jumps=[_jump(1, {"flight_time_s": 0.5})])
    header, lines = cmp.table_rows(_result([one]))
    labels = [ln[0] for ln in lines]
    assert "flight time" in labels and not any(lab.startswith("#") for lab in labels)


# ------------------------------------------------------------------ the real thing


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """The README's fake models, built by its command (``make fake-models`` runs this)."""
    from tests import onnx_fakes

    folder = tmp_path_factory.mktemp("cmp_models")
    assert onnx_fakes.main(["--out", str(folder), "--mode", "balanced"]) == 0
    return folder


@pytest.mark.e2e
@pytest.mark.xdist_group("compare-models")  # the fake models are built once
def test_cli_compare_writes_json_markdown_plot(models, tmp_path) -> None:
    video = SAMPLES / "cmj_60fps.mp4"
    out = {k: tmp_path / f"c.{k}" for k in ("json", "md", "png")}
    args = ["--backends", "rtmpose:balanced,rtmo,mediapipe:lite@cuda"]
    r = run_kmo(
        "compare", str(video), *args, "--model-dir", str(models),
        "--json-file", str(out["json"]), "--markdown-file", str(out["md"]),
        "--plot", str(out["png"]), timeout=300,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "rtmpose:balanced" in r.stdout and "flight time" in r.stdout  # the table
    assert "Traceback" not in r.stderr
    doc = json.loads(out["json"].read_text())
    rtmpose, rtmo, mp = doc["videos"][0]["configurations"]
    assert rtmpose["status"] == "ok" and rtmpose["device_used"] == "cpu"
    truth = truth_of(video)["metrics"]["flight_time_s"]
    (j,) = rtmpose["jumps"]
    assert j["values"]["flight_time_s"] == pytest.approx(truth, abs=0.02)
    assert rtmpose["jitter_groups"]["heels"]["px"] < 0.5
    assert rtmo["jitter_groups"]["heels"] is None  # RTMO has no heel landmarks
    (k,) = rtmo["jumps"]
    assert k["diff_from_first"]["flight_time_s"] == pytest.approx(
        1e3 * (k["values"]["flight_time_s"] - j["values"]["flight_time_s"]), abs=1e-3
    )
    assert mp["status"] == "unavailable" and "CPU only" in mp["error"]
    assert "| flight time |" in out["md"].read_text()
    assert out["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    again = run_kmo(
        "compare", str(video), "--backends", "rtmo", "--model-dir", str(models),
        "--plot", str(out["png"]),
    )  # fmt: skip
    assert again.returncode == 2 and "--force" in again.stderr


@pytest.fixture(scope="module")
def drop_jump_compared(models) -> list[dict]:
    video = SAMPLES / "drop_jump_60fps.mp4"
    r = run_kmo(
        "compare", str(video), "--backends", "rtmpose,rtmo", "--model-dir", str(models),
        "--json", timeout=300,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)["videos"][0]["configurations"]


@pytest.mark.e2e
@pytest.mark.xdist_group("compare-models")
@pytest.mark.parametrize(
    "k",
    [
        pytest.param(0, id="rtmpose"),
        pytest.param(1, id="rtmo"),
    ],
)
def test_cli_compare_fake_models_measure_the_drop_jump(drop_jump_compared, k: int) -> None:
    """One fake-model folder serves every sample scene (here the drop jump with its box)."""
    truth = truth_of(SAMPLES / "drop_jump_60fps.mp4")["metrics"]
    conf = drop_jump_compared[k]
    assert conf["status"] == "ok", conf
    (j,) = conf["jumps"]
    assert j["jump_type"] == "drop_jump"
    assert j["values"]["flight_time_s"] == pytest.approx(truth["flight_time_s"], abs=0.02)
    assert j["values"]["ground_contact_time_s"] == pytest.approx(
        truth["ground_contact_time_s"], abs=0.02
    )


def test_inference_on_threads_counts_once_on_the_clock() -> None:
    """A configuration's inference time is summed over its threads; the end-to-end column
    ('as if it ran alone') counts the time on the clock."""
    from types import SimpleNamespace

    from kinemotion_cli.compare import _infer_wall

    def m(infer_s: float, threads: int | None) -> SimpleNamespace:
        timing = {} if threads is None else {"inference_threads": threads}
        return SimpleNamespace(run=SimpleNamespace(infer_s=infer_s), timing=timing)

    assert _infer_wall(m(10.0, 2)) == 5.0
    assert _infer_wall(m(10.0, 1)) == _infer_wall(m(10.0, None)) == 10.0
