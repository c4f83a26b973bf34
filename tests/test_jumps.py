"""Event detection and metrics on landmark series sampled from exact analytic jumps."""

from __future__ import annotations

import numpy as np
import pytest

from kinemotion_cli.errors import ExitCode, KmoError
from kinemotion_cli.jumps import analyze
from tests.landmark_series import PPM, series

CASES = [("cmj", "cmj"), ("drop_jump", "drop_jump"), ("squat_jump", "squat_jump")]


@pytest.mark.parametrize("fps", [30, 60, 240])
@pytest.mark.parametrize("jump,expected", CASES)
def test_events_sub_frame_exact_without_noise(jump: str, expected: str, fps: int) -> None:
    t, lm, m = series(jump, fps)
    r = analyze(t, lm, fps)
    assert r.jump_type == expected
    # Noise-free rigid flight: the parabola roots are exact, far below a frame interval.
    assert abs(r.events["takeoff_s"].value - m.events["takeoff_s"]) < 1e-4
    assert abs(r.events["landing_s"].value - m.events["landing_s"]) < 1e-4
    assert r.metrics["jump_height_m"].value == pytest.approx(m.metrics["jump_height_m"], abs=1e-3)
    assert r.scale["pixels_per_m"] == pytest.approx(PPM, rel=0.01)


@pytest.mark.parametrize("fps,tol", [(30, 0.017), (60, 0.008), (240, 0.004)])
@pytest.mark.parametrize("jump,expected", CASES)
def test_events_with_landmark_noise(jump: str, expected: str, fps: int, tol: float) -> None:
    t, lm, m = series(jump, fps, noise_px=1.5, seed=fps)
    r = analyze(t, lm, fps)
    assert r.jump_type == expected
    ft = r.metrics["flight_time_s"].value
    assert abs(ft - m.metrics["flight_time_s"]) <= tol
    assert r.metrics["flight_time_s"].uncertainty is not None
    assert 0 < r.metrics["flight_time_s"].uncertainty < 0.02


def test_cmj_phases() -> None:
    t, lm, m = series("cmj", 120, noise_px=0.5)
    r = analyze(t, lm, 120)
    ev, me = r.events, r.metrics
    assert abs(ev["lowest_point_s"].value - m.events["lowest_point_s"]) < 0.02
    assert abs(ev["movement_start_s"].value - m.events["movement_start_s"]) < 0.06
    assert me["countermovement_depth_m"].value == pytest.approx(
        m.metrics["countermovement_depth_m"], abs=0.02
    )
    assert me["peak_concentric_velocity_m_s"].value == pytest.approx(
        m.metrics["peak_concentric_velocity_m_s"], rel=0.08
    )
    assert me["peak_eccentric_velocity_m_s"].value < 0
    order = [ev[k].value for k in ("movement_start_s", "lowest_point_s", "takeoff_s", "landing_s")]
    assert order == sorted(order)


def test_drop_jump_contact_and_rsi() -> None:
    t, lm, m = series("drop_jump", 60, noise_px=1.0)
    r = analyze(t, lm, 60)
    gct = r.metrics["ground_contact_time_s"].value
    assert abs(gct - m.metrics["ground_contact_time_s"]) <= 1 / 60
    assert r.metrics["rsi_height_over_contact"].value == pytest.approx(
        r.metrics["jump_height_m"].value / gct
    )
    assert r.metrics["rsi_flight_over_contact"].value == pytest.approx(
        r.metrics["flight_time_s"].value / gct
    )
    assert r.metrics["drop_height_m"].value == pytest.approx(m.metrics["drop_height_m"], abs=0.03)


def test_squat_jump_push_off() -> None:
    t, lm, m = series("squat_jump", 60, noise_px=0.5)
    r = analyze(t, lm, 60)
    assert abs(r.events["push_off_start_s"].value - m.events["push_off_start_s"]) < 0.05


def test_no_jump_is_refused() -> None:
    t, lm, _ = series("none", 60, noise_px=1.0)
    with pytest.raises(KmoError) as exc:
        analyze(t, lm, 60)
    assert exc.value.code == ExitCode.NO_JUMP


def test_forced_type_mismatch() -> None:
    t, lm, _ = series("cmj", 60)
    with pytest.raises(KmoError) as exc:
        analyze(t, lm, 60, jump="dj")
    assert exc.value.code == ExitCode.JUMP_MISMATCH


def test_feet_missing_at_takeoff_is_not_measurable() -> None:
    t, lm, m = series("cmj", 60)
    i = int(np.searchsorted(t, m.events["takeoff_s"]))
    lm[i - 3 : i + 3] = np.nan
    with pytest.raises(KmoError) as exc:
        analyze(t, lm, 60)
    assert exc.value.code == ExitCode.NOT_MEASURABLE


def test_stature_scale() -> None:
    t, lm, m = series("cmj", 60)
    r = analyze(t, lm, 60, stature_m=1.75)
    assert "stature" in r.scale["method"]
    assert r.scale["pixels_per_m"] == pytest.approx(PPM, rel=0.02)
