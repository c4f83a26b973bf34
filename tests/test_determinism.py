"""Determinism: the same input and options give byte-identical JSON; timings stay apart."""

from __future__ import annotations

import json
import subprocess
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from kinemotion_cli.jumps import analyze
from kinemotion_cli.report import to_json
from tests.conftest import SAMPLES, run_kmo
from tests.landmark_series import series


def test_analysis_is_deterministic() -> None:
    t, lm, _ = series("drop_jump", 60, noise_px=1.5, seed=3)
    a, b = analyze(t, lm.copy(), 60), analyze(t, lm.copy(), 60)
    assert {k: m.value for k, m in a.metrics.items()} == {k: m.value for k, m in b.metrics.items()}
    assert {k: m.value for k, m in a.events.items()} == {k: m.value for k, m in b.events.items()}
    assert np.array_equal(a.hip_h, b.hip_h, equal_nan=True)


@pytest.mark.e2e
def test_cli_json_is_byte_identical_and_timings_apart() -> None:
    """Two separate runs (one with --timings) give the same bytes once 'timing' is dropped."""
    video = str(SAMPLES / "cmj_60fps.mp4")
    with ThreadPoolExecutor(2) as pool:
        plain, timed = pool.map(
            lambda extra: run_kmo("analyze", video, "--json", *extra),
            [[], ["--timings"]],
        )
    for p in (plain, timed):
        assert isinstance(p, subprocess.CompletedProcess) and p.returncode == 0, p.stderr
    assert "timing" not in json.loads(plain.stdout)
    obj = json.loads(timed.stdout)
    assert set(obj.pop("timing")) >= {"total_s", "inference_s"}
    assert to_json(obj) + "\n" == plain.stdout  # two independent runs, identical bytes
