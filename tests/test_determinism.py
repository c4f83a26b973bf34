"""Determinism: the same input and options give byte-identical JSON; timings stay apart."""

from __future__ import annotations

import json
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from kinemotion_cli.jumps import analyze
from kinemotion_cli.report import to_dict, to_json
from tests.conftest import KMO, ROOT, SAMPLES, run_kmo
from tests.landmark_series import series


def test_analysis_is_deterministic_and_leaves_its_input_alone() -> None:
    more = [dict(jump="rebound", flight_time=0.45, contact_s=0.2)]
    t, lm, _ = series("drop_jump", 60, noise_px=1.5, seed=3, jumps=more)
    before = lm.copy()
    a, b = analyze(t, lm, 60), analyze(t, lm, 60)
    np.testing.assert_array_equal(lm, before)
    assert len(a.jumps) == len(b.jumps) == 2
    for ja, jb in zip(a.jumps, b.jumps):
        assert ja.events == jb.events and ja.metrics == jb.metrics  # values, sds, methods
        assert ja.jump_type == jb.jump_type and ja.scale == jb.scale
    assert np.array_equal(a.hip_h, b.hip_h, equal_nan=True)


def test_report_bytes_do_not_depend_on_the_run() -> None:
    from tests.conftest import measured_from_series

    t, lm, _ = series("cmj", 60, noise_px=1.0, seed=5)
    one, two = measured_from_series(t, lm, 60), measured_from_series(t, lm.copy(), 60)
    assert to_json(to_dict(one)) == to_json(to_dict(two))
    assert "timing" in to_dict(one, timings=True) and "timing" not in to_dict(one)


@pytest.mark.e2e
def test_cli_json_is_byte_identical_and_timings_apart() -> None:
    """Two separate runs (one with --timings, inferring on 1 thread and 3 instead of the
    default) give the same bytes once 'timing' is dropped."""
    video = str(SAMPLES / "cmj_60fps.mp4")
    with ThreadPoolExecutor(2) as pool:
        plain, timed = pool.map(
            lambda extra: run_kmo("analyze", video, "--json", *extra),
            [["--threads", "1"], ["--timings", "--threads", "3"]],
        )
    for p in (plain, timed):
        assert isinstance(p, subprocess.CompletedProcess) and p.returncode == 0, p.stderr
    assert "timing" not in json.loads(plain.stdout)
    obj = json.loads(timed.stdout)
    timing = obj.pop("timing")
    assert set(timing) >= {"total_s", "inference_s"} and timing["inference_threads"] == 3
    assert to_json(obj) + "\n" == plain.stdout  # two independent runs, identical bytes


@pytest.mark.e2e
def test_cli_json_on_litert_is_byte_identical_for_any_thread_count() -> None:
    """MediaPipe's models on LiteRT: one single-threaded interpreter pair per inference
    thread, so 1 and 3 threads give the same bytes."""
    video = str(SAMPLES / "cmj_60fps.mp4")
    env = {**os.environ, "KMO_MEDIAPIPE_RUNTIME": "litert"}
    outs = [
        subprocess.run(
            [*KMO, "analyze", video, "--json", "--threads", n],
            capture_output=True, text=True, timeout=600, cwd=ROOT, env=env,
        )
        for n in ("1", "3")
    ]  # fmt: skip
    for p in outs:
        assert p.returncode == 0, p.stderr
    assert json.loads(outs[0].stdout)["backend_settings"] == {"runtime": "litert"}
    assert outs[0].stdout == outs[1].stdout
