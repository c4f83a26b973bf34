"""backends/: the registry, ``create``, BackendOptions, MediaPipe, and ``--backend auto``.

The rtmlib backends (RTMPose, RTMO) and onnxruntime sessions are in ``test_rtm.py``.
"""

from __future__ import annotations

import dataclasses
import importlib
import re

import numpy as np
import pytest

from kinemotion_cli.backends import (
    BACKEND_CHOICES,
    BACKENDS,
    DEVICES,
    BackendOptions,
    auto,
    create,
)
from kinemotion_cli.backends import ort as ortk
from kinemotion_cli.bench_rtm import auto_rule_lines
from kinemotion_cli.errors import ExitCode, KmoError
from kinemotion_cli.landmarks import INDEX
from tests.conftest import ROOT, SAMPLE

# --------------------------------------------------------------------------- registry


def test_registry_entries_point_at_real_classes() -> None:
    assert list(BACKENDS) == ["mediapipe", "rtmpose", "rtmo"]
    assert BACKEND_CHOICES == ("mediapipe", "rtmpose", "rtmo", "auto")
    for name, spec in BACKENDS.items():
        cls = getattr(importlib.import_module(spec.module), spec.cls)
        assert cls.name == name
        assert spec.default_variant in spec.variants
        assert set(spec.devices) <= set(DEVICES) and "auto" in spec.devices
        assert spec.help
    assert BACKENDS["mediapipe"].variant_kind == "model"
    assert BACKENDS["mediapipe"].variants == ("lite", "full", "heavy")
    assert BACKENDS["rtmpose"].variants == ("lightweight", "balanced", "performance")


def test_backend_options_are_frozen_without_extra() -> None:
    o = BackendOptions()
    assert (o.model, o.mode, o.device, o.batch, o.det_every) == (None, "balanced", "auto", 1, 1)
    assert not hasattr(o, "running_mode")  # IMAGE mode only (VIDEO mode lagged every event)
    with pytest.raises(dataclasses.FrozenInstanceError):
        o.device = "cpu"  # type: ignore[misc]
    assert "extra" not in {f.name for f in dataclasses.fields(BackendOptions)}
    assert hash(o) == hash(BackendOptions())  # usable as a key (configurations)


def test_unknown_backend_is_a_one_line_error() -> None:
    with pytest.raises(KmoError) as exc:
        create("openpose", BackendOptions())
    assert exc.value.code == ExitCode.BAD_INPUT
    assert "unknown backend 'openpose'" in exc.value.message
    assert all(c in exc.value.message for c in BACKEND_CHOICES)


# --------------------------------------------------------------------------- MediaPipe


@pytest.fixture(scope="module")
def sample_frame() -> np.ndarray:
    from kinemotion_cli.video import decode, probe

    return next(iter(decode(str(SAMPLE), probe(str(SAMPLE))))).image


def test_mediapipe_finds_the_athlete_in_video_pixels(sample_frame) -> None:
    backend, choice = create("mediapipe", BackendOptions(model="lite", quiet=True))
    try:
        assert choice is None  # named explicitly: nothing was chosen
        people = backend.infer(sample_frame, 0.0)
    finally:
        backend.close()
    (p,) = people
    assert p.shape == (26, 3)
    # the sample's truth: soles on row 587, standing hip on row 371.9 (video pixels)
    toes = p[[INDEX["left_big_toe"], INDEX["right_big_toe"]], 1]
    assert abs(toes.max() - 587) < 15
    assert abs(p[INDEX["hip"], 1] - 371.9) < 10
    assert 100 < p[INDEX["hip"], 0] < 300 and np.all(p[:, 2] <= 1.0)
    info = backend.info
    assert info["backend"] == "mediapipe" and info["model"] == "pose_landmarker_lite"
    assert info["device_used"] == "cpu" and info["running_mode"] == "image"


def test_mediapipe_refuses_gpu_devices_and_unknown_models() -> None:
    with pytest.raises(KmoError, match="runs on the CPU only"):
        create("mediapipe", BackendOptions(device="cuda", quiet=True))
    with pytest.raises(KmoError, match="unknown MediaPipe model 'tiny'"):
        create("mediapipe", BackendOptions(model="tiny", quiet=True))


# --------------------------------------------------------------------------- auto: the rule


CPU_ONLY = [ortk.CPU]


def test_plan_by_providers() -> None:
    o = BackendOptions()
    name, opts, why = auto.plan(o, [ortk.CUDA, ortk.CPU])
    assert (name, opts.device) == ("rtmpose", "cuda") and ortk.CUDA in why
    name, opts, why = auto.plan(o, [ortk.COREML, ortk.CPU])
    assert (name, opts.device) == ("rtmpose", "coreml") and ortk.COREML in why
    name, opts, why = auto.plan(o, CPU_ONLY)
    assert name == auto.CPU_CHOICE and "no GPU provider" in why and auto.CPU_WHY in why
    if auto.CPU_CHOICE == "mediapipe":
        assert opts.device == "cpu"
    # a device asked by name: rtmpose, whatever the providers say
    for dev in ("cuda", "coreml", "mps"):
        name, opts, why = auto.plan(dataclasses.replace(o, device=dev), CPU_ONLY)
        assert name == "rtmpose" and opts.device == dev and f"--device {dev} asked" in why
    name, _, _ = auto.plan(dataclasses.replace(o, device="cpu"), [ortk.CUDA, ortk.CPU])
    assert name == auto.CPU_CHOICE  # --device cpu: the CPU choice even with a GPU


def _fps_of(text: str) -> dict[str, float]:
    """``name N fps`` pairs of a measurement line, keyed like auto_cpu_rule's output."""
    found = {}
    mp = re.search(r"MediaPipe full ([\d.]+) fps", text, re.I)
    found["mediapipe full"] = float(mp.group(1))
    for mode in ("lightweight", "balanced", "performance"):
        m = re.search(rf"{mode}\b[^,;]*?([\d.]+) fps", text)
        if m:
            found[f"rtmpose {mode}"] = float(m.group(1))
    return found


def _holds(fps: dict[str, float]) -> bool:
    line = auto_rule_lines(fps)[1]
    assert line.endswith("(holds)") or "OUT OF DATE" in line
    return line.endswith("(holds)")


def test_the_coded_cpu_choice_agrees_with_its_recorded_measurement() -> None:
    """CPU_CHOICE is what the measurement in auto.py (CPU_MEASUREMENT) says is faster."""
    fps = _fps_of(auto.CPU_MEASUREMENT)
    assert set(fps) == {"mediapipe full", "rtmpose lightweight", "rtmpose balanced"}
    assert _holds(fps), auto_rule_lines(fps)


def test_the_coded_cpu_choice_agrees_with_the_readme_bench_output() -> None:
    readme = (ROOT / "README.md").read_text()
    line = next(ln for ln in readme.splitlines() if "--backend auto, CPU rule" in ln)
    fps = {}
    for name, value in re.findall(r"(mediapipe full|rtmpose \w+) ([\d.]+) fps", line):
        fps[name] = float(value)
    assert len(fps) >= 2
    assert _holds(fps), line


@pytest.mark.parametrize(
    "table,faster",
    [
        ({"mediapipe full": 20.0, "rtmpose lightweight": 10.0, "rtmpose balanced": 2}, "mediapipe"),
        ({"mediapipe full": 20.0, "rtmpose lightweight": 40.0}, "rtmpose"),
        ({"mediapipe full": 20.0, "rtmpose balanced": 20.0}, "mediapipe"),  # a tie: no switch
    ],
)  # fmt: skip
def test_auto_rule_lines_compare_the_table_with_the_coded_choice(table, faster) -> None:
    lines = auto_rule_lines(table)
    best = max((k for k in table if k.startswith("rtmpose")), key=table.__getitem__)
    ratio = table["mediapipe full"] / table[best]
    assert f"({best}) = x{ratio:.2f} -> {faster} is faster here" in lines[1]
    assert lines[1].endswith("(holds)") == (faster == auto.CPU_CHOICE)
    assert all(f"{k} {v:.1f} fps" in lines[0] for k, v in table.items())


# --------------------------------------------------------------------------- auto: creating


class _Fake:
    def __init__(self, name: str, opts: BackendOptions, used: str, warnings=()) -> None:  # noqa: ANN001
        self.name, self.opts, self.closed = name, opts, False
        self.info = {"device_used": used, "warnings": list(warnings)}

    def close(self) -> None:
        self.closed = True


class _Made(list):
    """Backends ``auto`` instantiated (faked); rtmpose 'loads' on the GPU unless
    ``gpu_fails``."""

    gpu_fails = False


@pytest.fixture()
def made(monkeypatch: pytest.MonkeyPatch) -> _Made:
    out = _Made()

    def fake(name: str, opts: BackendOptions) -> _Fake:
        used = opts.device if name == "rtmpose" and opts.device != "auto" else "cpu"
        warn = ()
        if name == "rtmpose" and out.gpu_fails:
            used, warn = "cpu", ("cuda was requested but inference runs on the CPU: cuDNN",)
        out.append(_Fake(name, opts, used, warn))
        return out[-1]

    monkeypatch.setattr(auto, "instantiate", fake)
    return out


def test_create_auto_keeps_a_gpu_that_loads(made, capsys) -> None:
    backend, choice = auto.create_auto(BackendOptions(), [ortk.CUDA, ortk.CPU])
    assert backend is made[-1] and len(made) == 1
    assert backend.name == "rtmpose" and backend.opts.device == "cuda" and not backend.closed
    assert choice == f"rtmpose: {ortk.CUDA} is listed"
    assert capsys.readouterr().err == f"kmo: --backend auto chose {choice}\n"


def test_create_auto_falls_back_when_the_gpu_does_not_load(made, capsys) -> None:
    made.gpu_fails = True
    backend, choice = auto.create_auto(BackendOptions(quiet=True), [ortk.CUDA, ortk.CPU])
    gpu, cpu = made
    assert gpu.name == "rtmpose" and gpu.closed  # tried, closed
    assert backend is cpu and cpu.name == auto.CPU_CHOICE and cpu.opts.device == "cpu"
    assert choice.startswith(
        f"{auto.CPU_CHOICE}: {ortk.CUDA} is listed, but rtmpose on cuda runs on cpu: "
    )
    assert "cuDNN" in choice and "fell back to the CPU choice" in choice
    assert (
        backend.info["auto"]["fell_back"] and backend.info["auto"]["tried"][0]["device"] == "cuda"
    )
    assert capsys.readouterr().err == ""  # quiet


def test_create_auto_cpu_only(made) -> None:
    backend, choice = auto.create_auto(BackendOptions(quiet=True), CPU_ONLY)
    assert backend.name == auto.CPU_CHOICE and len(made) == 1
    assert choice == (
        f"{auto.CPU_CHOICE}: onnxruntime offers no GPU provider ({ortk.CPU}); {auto.CPU_WHY}"
    )


def test_create_routes_auto_through_the_rule(made, monkeypatch) -> None:
    monkeypatch.setattr(ortk, "available_providers", lambda: list(CPU_ONLY))
    backend, choice = create("auto", BackendOptions(quiet=True))
    assert backend.name == auto.CPU_CHOICE and choice.startswith(
        auto.CPU_CHOICE + ": onnxruntime offers no GPU provider"
    )
    assert len(made) == 1  # one backend created, by the rule
