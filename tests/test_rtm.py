"""RTMPose / RTMO backends on fake ONNX models with the real signatures, through real rtmlib;
onnxruntime sessions, devices and model files. (Registry, MediaPipe and ``--backend auto``:
test_backends.py; the pipeline feeding batches: test_pipeline.py.)"""

from __future__ import annotations

import json
import urllib.error
import zipfile
from pathlib import Path

import numpy as np
import pytest

from kinemotion_cli.backends import BackendOptions, create
from kinemotion_cli.backends import ort as ortk
from kinemotion_cli.errors import ExitCode, KmoError
from kinemotion_cli.landmarks import INDEX
from kinemotion_cli.models import rtmlib_models as rm
from tests.conftest import SAMPLES, render_once, run_kmo, truth_of
from tests.onnx_fakes import make_pose, scene_background, write_model_dir

pytestmark = pytest.mark.xdist_group("rtm")  # the fake models are built once

W, H = 540, 960
BG = 40
TOP, BOTTOM, LEFT, RIGHT = 300, 700, 220, 320  # the "person" rectangle


def frame(person: bool = True, shift: int = 0) -> np.ndarray:
    img = np.full((H, W, 3), BG, np.uint8)
    if person:
        img[TOP - shift : BOTTOM - shift, LEFT:RIGHT] = (200, 150, 120)
    return img


@pytest.fixture(autouse=True)
def _isolated_caches(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("KMO_CACHE_DIR", str(tmp_path / "kmo-cache"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "rtmlib-cache"))
    monkeypatch.delenv("KMO_MODEL_DIR", raising=False)


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> Path:
    return write_model_dir(tmp_path_factory.mktemp("models"), frame(person=False), "balanced")


def backend(name: str, models: Path, **kw):
    b, choice = create(name, BackendOptions(model_dir=str(models), quiet=True, **kw))
    assert choice is None  # named, not chosen by auto
    return b


# ------------------------------------------------------------------ landmarks through rtmlib


def test_rtmpose_halpe26_follows_the_person(models) -> None:
    b = backend("rtmpose", models, threads=1)
    for shift in (0, 80):
        (p,) = b.infer(frame(shift=shift), 0.0)
        assert p.shape == (26, 3)
        toes = p[[INDEX["left_big_toe"], INDEX["right_big_toe"]], 1]
        assert np.all(np.abs(toes - (BOTTOM - shift)) < 3)
        assert abs(p[INDEX["head"], 1] - (TOP - shift)) < 4
        assert abs(p[INDEX["hip"], 0] - (LEFT + RIGHT) / 2) < 4
        assert np.all(p[:, 2] > 0.8) and np.all(p[:, 2] <= 1.0)
    assert b.info["device_used"] == "cpu" and b.info["device_requested"] == "auto"


def test_no_person_is_no_landmarks(models) -> None:
    for name in ("rtmpose", "rtmo"):
        b = backend(name, models)
        assert b.infer(frame(person=False), 0.0) == []
        assert len(b.infer(frame(), 0.1)) == 1  # and it recovers


def test_rtmo_embeds_coco17_in_halpe26(models) -> None:
    b = backend("rtmo", models)
    (p,) = b.infer(frame(), 0.0)
    for name in ("head", "left_heel", "right_heel", "left_big_toe", "right_small_toe"):
        assert np.isnan(p[INDEX[name], 0]), name
    ankle = p[INDEX["left_ankle"], 1]
    assert abs(ankle - (TOP + 0.95 * (BOTTOM - TOP))) < 3
    neck = p[INDEX["neck"], :2]
    assert np.allclose(neck, (p[INDEX["left_shoulder"], :2] + p[INDEX["right_shoulder"], :2]) / 2)
    assert "left_heel" in b.info["missing_landmarks"]


# ------------------------------------------------------------------ sessions and devices


def test_session_options_really_applied(models) -> None:
    b = backend("rtmpose", models, threads=1)
    for session in (b._det.session, b._pose.session):
        so = session.get_session_options()
        import onnxruntime as ort

        assert so.intra_op_num_threads == 1
        assert so.inter_op_num_threads == 1
        assert so.execution_mode == ort.ExecutionMode.ORT_SEQUENTIAL
        assert so.graph_optimization_level == ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        assert so.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    assert b.info["threads"] == 1
    assert backend("rtmpose", models).info["threads"] == ortk.default_threads()


def test_cgroup_quota_and_physical_cores(tmp_path) -> None:
    (tmp_path / "cpu.max").write_text("150000 100000\n")
    assert ortk.cgroup_cpu_limit(str(tmp_path)) == pytest.approx(1.5)
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert ortk.cgroup_cpu_limit(str(tmp_path)) is None
    sysfs = tmp_path / "sys"
    for cpu, sib in {0: "0,2", 1: "1,3", 2: "0,2", 3: "1,3"}.items():
        (sysfs / f"cpu{cpu}" / "topology").mkdir(parents=True)
        (sysfs / f"cpu{cpu}" / "topology" / "thread_siblings_list").write_text(sib)
    assert ortk.physical_cores({0, 1, 2, 3}, str(sysfs)) == 2
    assert ortk.physical_cores({0, 2}, str(sysfs)) == 1


@pytest.mark.parametrize(
    "requested,available,expected",
    [
        ("auto", [ortk.CUDA, ortk.CPU], "cuda"),
        ("auto", [ortk.COREML, ortk.CPU], "coreml"),
        ("auto", [ortk.CPU], "cpu"),
        ("mps", [ortk.COREML, ortk.CPU], "coreml"),
        ("cuda", [ortk.CPU], "cuda"),
    ],
)
def test_pick_device(requested, available, expected) -> None:
    assert ortk.pick_device(requested, available) == expected
    assert ortk.providers_for(expected)[-1] == ortk.CPU


def test_cuda_fallback_warns_and_reports_truth(models, monkeypatch, capsys) -> None:
    monkeypatch.setattr(ortk, "available_providers", lambda: [ortk.CUDA, ortk.CPU])
    monkeypatch.setattr(ortk, "installed_onnxruntimes", lambda: ["onnxruntime"])
    b, _ = create("rtmpose", BackendOptions(model_dir=str(models), device="cuda"))
    assert b.info["device_requested"] == "cuda" and b.info["device_used"] == "cpu"
    err = capsys.readouterr().err.strip().splitlines()
    lost = [ln for ln in err if "cuda was requested" in ln]  # the other line: stand-ins
    assert len(lost) == 1 and lost[0].startswith("kmo: warning: cuda was requested")
    assert "CPU" in lost[0] and len(err) == 2 and "stand-in" in err[1]


def test_absent_provider_analyze_falls_back_compare_reports_unavailable(
    models, monkeypatch, capsys
) -> None:
    from kinemotion_cli import compare as cmp

    monkeypatch.setattr(ortk, "available_providers", lambda: [ortk.CPU])
    monkeypatch.setattr(ortk, "installed_onnxruntimes", lambda: ["onnxruntime"])
    b = backend("rtmpose", models, device="cuda")  # kmo analyze: fall back, warn
    assert b.info["device_used"] == "cpu" and "needs onnxruntime-gpu" in b.info["warnings"][0]
    capsys.readouterr()
    spec = cmp.spec_of(cmp.Config("rtmpose", "balanced", "cuda"), str(models), None)
    assert spec.options.require_device  # compare: a GPU asked by name must be there
    with pytest.raises(KmoError, match="cuda unavailable: CUDA needs onnxruntime-gpu"):
        create(spec.backend, spec.options)


def test_broken_gpu_install_is_detected_with_exact_fix() -> None:
    both = ["onnxruntime", "onnxruntime-gpu"]
    msg = ortk.install_problem(both, [ortk.CPU], "cuda")
    assert msg and ortk.GPU_FIX in msg
    assert ortk.install_problem(both, [ortk.CUDA, ortk.CPU], "cuda") is None
    assert ortk.install_problem(["onnxruntime"], [ortk.CPU], "cpu") is None
    assert "onnxruntime-gpu" in ortk.install_problem(["onnxruntime"], [ortk.CPU], "cuda")


# ------------------------------------------------------------------ throughput options


def test_det_every_runs_detector_every_n_frames(models) -> None:
    b = backend("rtmpose", models, det_every=3)
    calls = []
    real = b._det
    b._det = lambda img: calls.append(1) or real(img)
    people = [b.infer(frame(shift=2 * i), i / 60) for i in range(7)]
    assert len(calls) == 3  # frames 0, 3, 6
    assert all(len(p) == 1 for p in people)
    assert abs(people[2][0][INDEX["left_big_toe"], 1] - BOTTOM) < 8  # tracked between


def test_batch_across_frames_matches_single(models) -> None:
    single = backend("rtmpose", models)
    batched = backend("rtmpose", models, batch=4)
    assert batched.batch == 4
    runs = []
    real = batched._pose.session.run
    batched._pose.session = type("S", (), {})()
    batched._pose.session.run = lambda out, feed: runs.append(len(feed["input"])) or real(out, feed)
    frames = [frame(shift=5 * i) for i in range(5)]
    got = batched.infer_batch(frames, [i / 60 for i in range(5)])
    want = [single.infer(f, 0.0) for f in frames]
    assert runs == [4, 1]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g[0], w[0], atol=1e-6)


def test_fixed_batch_model_falls_back_to_one(tmp_path) -> None:
    write_model_dir(tmp_path, frame(person=False), "lightweight")
    make_pose(tmp_path / rm.RTMPOSE_MODES["lightweight"][1].filename, (192, 256), batch=1)
    b, _ = create(
        "rtmpose", BackendOptions(mode="lightweight", model_dir=str(tmp_path), batch=8, quiet=True)
    )
    assert b.batch == 1 and "--batch ignored" in b.info["warnings"][0]


def test_wrong_input_size_is_rejected(tmp_path) -> None:
    write_model_dir(tmp_path, frame(person=False), "performance")
    make_pose(tmp_path / rm.RTMPOSE_MODES["performance"][1].filename, (192, 256))
    with pytest.raises(KmoError, match=r"expected \[B, 3, 384, 288\]"):
        create("rtmpose", BackendOptions(mode="performance", model_dir=str(tmp_path)))


# ------------------------------------------------------------------ model files


def test_missing_models_offline_one_line_error(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("KMO_OFFLINE", "1")
    with pytest.raises(KmoError) as exc:
        create("rtmpose", BackendOptions(model_dir=str(tmp_path), quiet=True))
    msg = exc.value.message
    det, pose = rm.RTMPOSE_MODES["balanced"]
    assert exc.value.code == ExitCode.BAD_INPUT and "\n" not in msg
    assert det.filename in msg and pose.filename in msg and str(tmp_path) in msg


def test_download_failure_names_files(tmp_path, monkeypatch) -> None:
    def refuse(*a, **k):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr("urllib.request.urlopen", refuse)
    with pytest.raises(KmoError, match=r"missing model file\(s\).*rtmo-s_8xb32.*no network"):
        create("rtmo", BackendOptions(mode="lightweight", quiet=True))
    assert not list((tmp_path / "kmo-cache").glob(".part-*"))


def test_zip_in_model_dir_and_rtmlib_cache_are_used(tmp_path, models) -> None:
    det, pose = rm.RTMPOSE_MODES["balanced"]
    md = tmp_path / "md"
    md.mkdir()
    with zipfile.ZipFile(md / det.zip_name, "w") as zf:
        zf.write(models / det.filename, "yolox/end2end.onnx")
    seeded = rm.rtmlib_cache_dir()
    seeded.mkdir(parents=True)
    (seeded / pose.filename).write_bytes((models / pose.filename).read_bytes())
    paths = rm.resolve_models([det, pose], str(md))
    assert paths[0].read_bytes() == (models / det.filename).read_bytes()
    assert paths[1] == seeded / pose.filename


def test_corrupt_model_is_a_clean_error(tmp_path, models) -> None:
    write_model_dir(tmp_path, frame(person=False))
    (tmp_path / rm.RTMO_MODES["balanced"].filename).write_bytes(b"not an onnx file")
    with pytest.raises(KmoError, match="corrupt") as exc:
        create("rtmo", BackendOptions(model_dir=str(tmp_path)))
    assert exc.value.code == ExitCode.BAD_INPUT


# ------------------------------------------------------------------ the whole CLI


@pytest.fixture(scope="module")
def video_and_models(tmp_path_factory) -> tuple[Path, Path]:
    from tests.groundtruth import Spec

    video = SAMPLES / "cmj_60fps.mp4"
    if not video.exists():
        video = render_once(tmp_path_factory.mktemp("gt"), "cmj_rtm", jump="cmj", fps=60.0)
    spec = Spec(**truth_of(video)["spec"])
    folder = write_model_dir(tmp_path_factory.mktemp("video_models"), scene_background(spec))
    return video, folder


@pytest.mark.e2e
@pytest.mark.parametrize(
    "name,foot",
    [
        ("rtmpose", "heels and toes"),
        ("rtmo", "ankles"),
    ],
)
def test_cli_end_to_end(video_and_models, name, foot) -> None:
    video, folder = video_and_models
    r = run_kmo("analyze", str(video), "--backend", name, "--model-dir", str(folder), "--json")
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    obj = json.loads(r.stdout)  # rtmlib's "load ..." chatter must not reach stdout
    assert obj["backend"] == name and obj["device_requested"] == "auto"
    assert obj["device_used"] == "cpu"
    assert obj["quality"]["contact_points"].startswith(foot)
    assert obj["jumps_found"] == 1 and obj["jumps"][0]["jump_type"] == "cmj"
    truth = truth_of(video)["metrics"]["flight_time_s"]
    assert obj["jumps"][0]["metrics"]["flight_time_s"] == pytest.approx(truth, abs=0.02)


@pytest.mark.e2e
def test_cli_batch_across_frames_same_numbers(video_and_models) -> None:
    video, folder = video_and_models
    objs = {}
    for batch in ("1", "8"):
        r = run_kmo(
            "analyze", str(video), "--backend", "rtmpose", "--model-dir", str(folder),
            "--batch", batch, "--json",
        )  # fmt: skip
        assert r.returncode == 0, r.stderr
        objs[batch] = json.loads(r.stdout)
    assert objs["8"]["backend_settings"]["batch"] == 8
    assert objs["1"]["backend_settings"]["batch"] == 1
    assert objs["8"]["jumps"] == objs["1"]["jumps"]


@pytest.mark.e2e
def test_cli_missing_models_exit_2(video_and_models, tmp_path) -> None:
    video, _ = video_and_models
    import os
    import subprocess
    import sys

    env = {**os.environ, "KMO_OFFLINE": "1", "KMO_CACHE_DIR": str(tmp_path), "TORCH_HOME": "x"}
    r = subprocess.run(
        [sys.executable, "-m", "kinemotion_cli", "analyze", str(video), "--backend", "rtmpose"],
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert (
        len(lines) == 1
        and lines[0].startswith("kmo: error: ")
        and "missing model file(s)" in lines[0]
    )
    assert rm.RTMPOSE_MODES["balanced"][1].filename in lines[0]


def test_mode_help_lists_each_modes_models_and_input_sizes() -> None:
    r = run_kmo("analyze", "--help")
    text = "".join(r.stdout.split())  # help is wrapped at spaces and hyphens

    def squeeze(s: str) -> str:
        return "".join(s.split())

    for mode, (det, pose) in rm.RTMPOSE_MODES.items():
        h, w = pose.input_size[1], pose.input_size[0]
        assert squeeze(f"{mode} = {det.name} {det.input_size[0]}x{det.input_size[1]}") in text
        assert squeeze(f"{pose.name} {h}x{w}") in text
        assert squeeze(rm.RTMO_MODES[mode].name) in text
