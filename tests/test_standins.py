"""Stand-in models are marked and reported as such wherever they lie; real models are checked;
``kmo bench`` runs on package data only; ``--backend auto`` says why it chose; the runtime
package never depends on this test folder."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from kinemotion_cli.backends import BackendOptions, create
from kinemotion_cli.backends import auto as auto_mod
from kinemotion_cli.backends import ort as ortk
from kinemotion_cli.data import BENCH_CLIP
from kinemotion_cli.models import (
    MEDIAPIPE_MODELS,
    STANDIN_KEY,
    STANDIN_LABEL,
    check_onnx_file,
    check_task_file,
)
from kinemotion_cli.models.onnxmeta import OnnxFormatError, read_meta, tiny_model
from kinemotion_cli.models.rtmlib_models import RTMO_MODES, RTMPOSE_MODES
from kinemotion_cli.testing import standins

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "kinemotion_cli"
onnx = pytest.importorskip("onnx")


def kmo(*args: str, cwd: Path, env: dict | None = None, timeout: float = 300):
    """The kmo CLI of this checkout, run from ``cwd`` (not the source tree)."""
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "kinemotion_cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env=full_env,
    )


@pytest.fixture(scope="module")
def standin_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Stand-ins of the lightweight mode under the upstream file names."""
    return standins.write_model_dir(tmp_path_factory.mktemp("standins"), None, "lightweight")


@pytest.fixture(autouse=True)
def _isolated_caches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KMO_CACHE_DIR", str(tmp_path / "kmo-cache"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))
    monkeypatch.setenv("KMO_OFFLINE", "1")
    monkeypatch.delenv("KMO_MODEL_DIR", raising=False)


# --------------------------------------------------------------------------- the marker


def test_every_standin_carries_the_marker_and_is_detected(standin_dir: Path) -> None:
    det, pose = RTMPOSE_MODES["lightweight"]
    names = {det.filename, pose.filename, RTMO_MODES["lightweight"].filename}
    assert {p.name for p in standin_dir.glob("*.onnx")} == names  # the upstream names
    for name in names:
        path = standin_dir / name
        model = onnx.load(str(path), load_external_data=False)
        props = {p.key: p.value for p in model.metadata_props}
        assert STANDIN_KEY in props and "imitates" in props[STANDIN_KEY]
        meta = read_meta(path)  # kmo's own reader, without onnx
        assert meta.metadata == props
        assert meta.graph_name == model.graph.name
        check = check_onnx_file(path)
        assert check.kind == "stand-in" and STANDIN_LABEL in check.detail


def test_unmarked_onnx_under_a_real_name_is_unknown_and_old_standins_are_recognised(
    tmp_path: Path,
) -> None:
    det = RTMPOSE_MODES["balanced"][0]
    plain = tmp_path / det.filename
    plain.write_bytes(tiny_model())
    check = check_onnx_file(plain)
    assert check.kind == "unknown" and "no checksum is known" in check.detail
    assert det.sha256 is None  # none is known for the rtmlib models; none is invented
    # a stand-in written before the marker existed: recognised by its graph name
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"])],
        "fake_yolox",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
    )
    old = tmp_path / "old" / det.filename
    old.parent.mkdir()
    onnx.save(helper.make_model(graph), str(old))
    assert check_onnx_file(old).kind == "stand-in"


def test_a_file_that_is_not_onnx_is_not_read_as_one(tmp_path: Path) -> None:
    junk = tmp_path / "x.onnx"
    junk.write_bytes(b"PK\x03\x04 this is a zip, not a protobuf" * 10)
    with pytest.raises(OnnxFormatError):
        read_meta(junk)
    assert check_onnx_file(junk).kind == "unknown"


def test_backends_report_standins_whatever_the_folder(
    standin_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    b, _ = create("rtmpose", BackendOptions(mode="lightweight", model_dir=str(standin_dir)))
    try:
        assert b.info["model_kind"] == "stand-in"
        assert b.info["model"] == f"YOLOX-tiny + RTMPose-s Halpe-26 [{STANDIN_LABEL}]"
        assert any(STANDIN_LABEL in w and str(standin_dir) in w for w in b.info["warnings"])
    finally:
        b.close()
    assert STANDIN_LABEL in capsys.readouterr().err  # said on stderr when not quiet
    # the same files in kmo's cache, with no --model-dir: still a stand-in, quietly
    cache = Path(os.environ["KMO_CACHE_DIR"])
    cache.mkdir(parents=True)
    for f in standin_dir.glob("*.onnx"):
        (cache / f.name).write_bytes(f.read_bytes())
    b, _ = create("rtmo", BackendOptions(mode="lightweight", quiet=True))
    try:
        assert b.info["model_kind"] == "stand-in" and STANDIN_LABEL in b.info["model"]
    finally:
        b.close()
    assert capsys.readouterr().err == ""


def test_mediapipe_models_are_real_by_checksum() -> None:
    for variant in ("lite", "full"):
        path = PACKAGE / "models" / MEDIAPIPE_MODELS[variant].filename
        assert check_task_file(path).kind == "real"
    b, _ = create("mediapipe", BackendOptions(model="lite", quiet=True))
    try:
        assert b.info["model_kind"] == "real"
    finally:
        b.close()


def test_mediapipe_checksum_mismatch_is_refused_with_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "models"
    bad.mkdir()
    good = (PACKAGE / "models" / "pose_landmarker_full.task").read_bytes()
    (bad / "pose_landmarker_full.task").write_bytes(good[:-100] + b"\0" * 100)
    assert check_task_file(bad / "pose_landmarker_full.task").kind == "unknown"
    proc = kmo("analyze", str(BENCH_CLIP), "--model-dir", str(bad), "--json", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "SHA-256 mismatch" in proc.stderr


# --------------------------------------------------------------------------- onnx missing


def test_without_onnx_the_generator_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("onnx", "helper", "numpy_helper", "TensorProto"):
        monkeypatch.setattr(standins, name, None)
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx -> ImportError
    why = standins.onnx_missing()
    assert why is not None and "pip install onnx" in why
    with pytest.raises(standins.StandinError, match="onnx"):
        standins.make_pose(Path("never-written.onnx"))


def test_bench_without_onnx_skips_rtm_rows_with_the_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from kinemotion_cli import benchreport as br

    monkeypatch.setattr(standins, "onnx_missing", lambda: "onnx is not installed (test)")
    sweep = br.Sweep(backends=["rtmo:lightweight"], devices=["cpu"], batches=[1], lengths=["short"])
    sweep.short_frames = 3
    doc = br.run_sweep(sweep)
    (row,) = doc["results"]
    assert row["status"] == "skipped" and "onnx is not installed (test)" in row["reason"]
    assert row["model_kind"] is None


# --------------------------------------------------------------------------- bench


def test_bench_runs_on_package_data_from_any_folder(tmp_path: Path, standin_dir: Path) -> None:
    """No sample_videos/, no tests/: the clip ships in the package, stand-ins are written."""
    proc = kmo(
        "bench",
        "--backends",
        "mediapipe:lite,rtmpose:lightweight",
        "--devices",
        "cpu",
        "--batch",
        "1",
        "--lengths",
        "short",
        "--short-frames",
        "3",
        "--json",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["schema"] == "kmo.bench/2"
    assert Path(doc["sweep"]["video"]) == BENCH_CLIP
    rows = {r["label"]: r for r in doc["results"]}
    assert all(r["status"] == "ok" for r in rows.values()), rows
    assert rows["mediapipe:lite"]["model_kind"] == "real"
    rtm = rows["rtmpose:lightweight"]
    assert rtm["model_kind"] == "stand-in" and STANDIN_LABEL in rtm["model"]
    assert rtm["standins_written"] and rtm["frames"] == 3
    assert any("written for this run" in n for n in doc["notes"])
    assert not list(tmp_path.glob("kmo-bench.*"))  # --json: nothing written

    # stand-ins given as --model-dir are labelled too (the bug: only "no model dir" was)
    proc = kmo(
        "bench",
        "--backends",
        "rtmpose:lightweight",
        "--devices",
        "cpu",
        "--batch",
        "1",
        "--lengths",
        "short",
        "--short-frames",
        "3",
        "--model-dir",
        str(standin_dir),
        "--markdown",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    row = next(ln for ln in proc.stdout.splitlines() if ln.startswith("| rtmpose:lightweight"))
    assert STANDIN_LABEL in row and "| stand-in |" in row
    assert "found stand-in models" in proc.stdout


# --------------------------------------------------------------------------- auto


def test_auto_falls_back_when_the_gpu_choice_cannot_be_created() -> None:
    b, choice = auto_mod.create_auto(BackendOptions(quiet=True), [ortk.CUDA, ortk.CPU])
    try:
        assert b.name == "mediapipe" and choice.startswith("mediapipe: ")
        assert "could not be created" in choice and "missing model file" in choice
        info = b.info["auto"]
        assert info["fell_back"] and info["tried"][0]["backend"] == "rtmpose"
        assert info["tried"][0]["device"] == "cuda"
    finally:
        b.close()


class _FakeGpuBackend:
    name = "rtmpose"

    def __init__(self, kind: str) -> None:
        self.info = {
            "device_used": "cuda",
            "model_kind": kind,
            "model_check": [f"x.onnx: {kind}"],
        }
        self.closed = False

    def infer(self, image: np.ndarray, t_s: float) -> list:
        return []

    def close(self) -> None:
        self.closed = True


@pytest.mark.parametrize("kind", ["stand-in", "unknown"])
def test_auto_keeps_a_working_gpu_choice_but_never_a_standin(
    kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = auto_mod.instantiate
    made: list = []

    def instantiate(name: str, options: BackendOptions):  # noqa: ANN202
        if name == "rtmpose":
            made.append(_FakeGpuBackend(kind))
            return made[-1]
        return real(name, options)

    monkeypatch.setattr(auto_mod, "instantiate", instantiate)
    b, choice = auto_mod.create_auto(BackendOptions(quiet=True), [ortk.CUDA, ortk.CPU])
    try:
        if kind == "stand-in":
            assert b.name == "mediapipe" and made[0].closed
            assert "stand-in" in choice and b.info["auto"]["fell_back"]
        else:
            assert b is made[0] and not made[0].closed
            assert choice == "rtmpose: CUDAExecutionProvider is listed"
            assert b.info["auto"]["tried"][0]["outcome"] == "kept"
    finally:
        b.close()


def test_auto_on_the_cpu_names_what_onnxruntime_listed() -> None:
    b, choice = auto_mod.create_auto(BackendOptions(quiet=True), [ortk.CPU])
    try:
        assert choice.startswith("mediapipe: onnxruntime offers no GPU provider")
        assert ortk.CPU in choice and not b.info["auto"]["fell_back"]
    finally:
        b.close()


# --------------------------------------------------------------------------- no tests import


def test_no_runtime_module_imports_the_tests_package() -> None:
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            offenders += [f"{path}:{node.lineno}" for n in names if n.split(".")[0] == "tests"]
    assert offenders == []
    # and the text check of the issue: no line mentions both "tests" and "import"
    lines = [
        f"{p}:{i}"
        for p in PACKAGE.rglob("*.py")
        for i, ln in enumerate(p.read_text().splitlines(), 1)
        if "tests" in ln and "import" in ln
    ]
    assert lines == []
