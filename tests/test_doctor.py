"""``kmo doctor``: one command that says what works, what does not, and the fix."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from kinemotion_cli import doctor
from kinemotion_cli.backends import ort as ortk
from kinemotion_cli.models import STANDIN_LABEL
from kinemotion_cli.models.onnxmeta import tiny_model
from kinemotion_cli.models.rtmlib_models import RTMPOSE_MODES

ROOT = Path(__file__).resolve().parents[1]
SECTIONS = {
    "schema",
    "versions",
    "providers",
    "gpu",
    "cuda",
    "model_dirs",
    "models",
    "decoder",
    "notes",
    "problems",
}


def kmo(*args: str, cwd: Path, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "kinemotion_cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
    )


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model folder with a stand-in under a real name and a damaged MediaPipe model."""
    pytest.importorskip("onnx")
    from kinemotion_cli.testing.standins import make_pose

    folder = tmp_path_factory.mktemp("models")
    pose = RTMPOSE_MODES["balanced"][1]
    make_pose(folder / pose.filename, pose.input_size)
    good = (ROOT / "kinemotion_cli" / "models" / "pose_landmarker_lite.task").read_bytes()
    (folder / "pose_landmarker_lite.task").write_bytes(good[:1000])
    return folder


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("home")
    return {"KMO_CACHE_DIR": str(tmp / "cache"), "TORCH_HOME": str(tmp / "torch")}


def test_doctor_json_has_every_section_and_finds_the_model_problems(
    model_dir: Path, env: dict, tmp_path: Path
) -> None:
    proc = kmo("doctor", "--json", "--model-dir", str(model_dir), cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)  # stdout is the JSON and nothing else
    assert set(doc) == SECTIONS and doc["schema"] == "kmo.doctor/1"
    v = doc["versions"]
    for key in ("kmo", "python", "mediapipe", "onnxruntime", "rtmlib", "opencv", "pyav", "numpy"):
        assert key in v
    assert v["litert"]["packages"] == {"ai-edge-litert": v["litert"]["version"]}  # the runtime
    assert v["onnxruntime"]["packages"]  # the variant(s) installed
    cpu = next(t for t in doc["providers"]["tested"] if t["provider"] == ortk.CPU)
    assert cpu["loads"] and cpu["runs"]
    assert set(doc["cuda"]) >= {"find_library", "nvidia_pip", "preload_dlls"}
    assert doc["model_dirs"][0] == {"source": "--model-dir", "dir": str(model_dir), "exists": True}
    by_name = {Path(m["path"]).name: m for m in doc["models"] if m["source"] == "--model-dir"}
    pose = by_name[RTMPOSE_MODES["balanced"][1].filename]
    assert pose["kind"] == "stand-in" and pose["source"] == "--model-dir"
    assert len(pose["sha256"]) == 64
    assert by_name["pose_landmarker_lite.task"]["kind"] == "unknown"  # damaged
    packaged = [m for m in doc["models"] if m["source"] == "package"]
    assert packaged and all(m["kind"] == "real" for m in packaged)
    dec = doc["decoder"]
    assert dec["rotation_applied"] and dec["timestamps_ok"] and dec["gap_found"]
    assert dec["rotation_read"] == 270 and dec["upright_size"] == "48x64"
    problems = [p for p in doc["problems"] if p["section"] == "models"]
    standin = next(p for p in problems if "stand-in model(s) (test only)" in p["problem"])
    assert standin["files"] == [pose["path"]] and "rtmpose --mode balanced" in standin["problem"]
    assert any("SHA-256" in p["problem"] and p["fix"].startswith("rm ") for p in problems)
    assert all(p["fix"] for p in doc["problems"])


def test_doctor_prints_one_screen_with_the_fixes(model_dir: Path, env: dict, tmp_path: Path):
    proc = kmo("doctor", cwd=tmp_path, env={**env, "KMO_MODEL_DIR": str(model_dir)})
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for label in ("versions", "providers", "CUDA libs", "models", "decoder"):
        assert label in out
    assert "$KMO_MODEL_DIR" in out and STANDIN_LABEL in out
    assert "rotation -90 applied" in out and "timestamps match" in out
    assert out.count("fix: ") >= 2
    assert len(out.splitlines()) < 50


def test_provider_problems_give_the_gpu_fix() -> None:
    gpu = {"gpus": [{"name": "NVIDIA H100", "driver": "550.54"}], "error": None}
    cuda_broken = {
        "listed": [ortk.CUDA, ortk.CPU],
        "tested": [
            {
                "provider": ortk.CUDA,
                "used_by_kmo": True,
                "loads": False,
                "error": "libcudnn.so.9: cannot open shared object file",
            },
            {"provider": ortk.CPU, "used_by_kmo": True, "loads": True, "error": None},
        ],
    }
    (p,) = doctor.provider_problems(cuda_broken, gpu, ["onnxruntime-gpu"])
    assert "libcudnn.so.9" in p["problem"] and p["fix"] == ortk.GPU_FIX
    both = doctor.provider_problems(cuda_broken, gpu, ["onnxruntime", "onnxruntime-gpu"])
    assert any("both installed" in p["problem"] for p in both)
    cpu_only = {"listed": [ortk.CPU], "tested": cuda_broken["tested"][1:]}
    (p,) = doctor.provider_problems(cpu_only, gpu, ["onnxruntime"])
    assert "no CUDA provider" in p["problem"] and "kinemotion-cli[gpu]" in p["fix"]
    assert doctor.provider_problems(cpu_only, None, ["onnxruntime"]) == []


def test_the_tiny_model_needs_no_onnx(monkeypatch: pytest.MonkeyPatch) -> None:
    import onnxruntime as ort

    session = ort.InferenceSession(tiny_model(), providers=[ortk.CPU])
    x = np.array([[-1.0, 2.0, -3.0, 4.0]], np.float32)
    assert session.run(None, {"x": x})[0].tolist() == [[0.0, 2.0, 0.0, 4.0]]
    monkeypatch.setitem(sys.modules, "onnx", None)
    model, how = doctor.tiny_model()
    assert "onnx is not installed" in how
    tested = doctor.providers(model)["tested"]
    assert next(t for t in tested if t["provider"] == ortk.CPU)["runs"]


def test_the_decoder_check_catches_a_wrong_rotation(monkeypatch: pytest.MonkeyPatch) -> None:
    from kinemotion_cli import video

    real = video.upright
    monkeypatch.setattr(video, "upright", lambda image, rot: real(image, (rot + 180) % 360))
    out, problems = doctor.decoder()
    assert out["rotation_applied"] is False
    assert problems and problems[0]["fix"] == doctor.UPGRADE_AV


def test_mixed_opencv_versions_are_fixed_at_the_version_both_have(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A fresh pip install can pair opencv-contrib-python 5.1.0.95 (pulled by mediapipe and
    rtmlib) with opencv-python 5.0.0.93, the newest that exists: the fix must name 5.0.0.93
    for both, not a version one of them does not have."""
    from kinemotion_cli import doctor

    have = {"opencv-python": "5.0.0.93", "opencv-contrib-python": "5.1.0.95"}
    real = doctor._dist_version
    monkeypatch.setattr(
        doctor, "_dist_version", lambda d: have.get(d) if d.startswith("opencv") else real(d)
    )
    _, problems = doctor.versions()
    (mix,) = [p for p in problems if "share the cv2 module" in p["problem"]]
    assert mix["fix"] == (
        "pip install --force-reinstall opencv-python==5.0.0.93 opencv-contrib-python==5.0.0.93"
    )
