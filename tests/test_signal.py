"""signal.py: every function on inputs whose answer is known exactly."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import butter, sosfilt

from kinemotion_cli import signal as sig
from tests.landmark_series import series

FPS = 60.0


# --------------------------------------------------------------------------- masking


def test_mask_low_confidence_blanks_xy_keeps_score_and_copies() -> None:
    lm = np.zeros((4, 2, 3))
    lm[..., 0], lm[..., 1] = 10.0, 20.0
    lm[:, 0, 2] = [0.9, 0.3, 0.29, np.nan]  # kept, kept (at the threshold), low, unknown
    lm[:, 1, 2] = 0.5
    out = sig.mask_low_confidence(lm, min_score=0.3)
    assert np.isfinite(out[:2, 0, :2]).all()
    assert np.isnan(out[2:, 0, :2]).all()
    assert np.isfinite(out[:, 1, :2]).all()
    np.testing.assert_array_equal(out[..., 2], lm[..., 2])  # scores untouched
    assert np.isfinite(lm[..., :2]).all()  # the input is not modified


# --------------------------------------------------------------------------- outliers


def test_reject_outliers_removes_spikes_only() -> None:
    t = np.arange(300) / FPS
    x = 100 + 30 * np.sin(2 * np.pi * 0.7 * t)
    spiky = x.copy()
    spiky[[50, 51, 200]] += [80.0, -60.0, 45.0]
    # a noise-free curve has a near-zero MAD at its turns: the floor (as the product uses,
    # a share of body height) keeps those from counting as outliers
    out = sig.reject_outliers(spiky, window=7, floor=10.0)
    assert np.isnan(out[[50, 51, 200]]).all()
    keep = np.ones(len(x), bool)
    keep[[50, 51, 200]] = False
    np.testing.assert_array_equal(out[keep], x[keep])  # nothing else is touched
    assert np.isfinite(spiky).all()  # the input is not modified


def test_reject_outliers_floor_and_too_few_samples() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(0, 0.1, 200)
    x[100] += 5.0  # 50 sigma, but under a 6 px floor
    assert np.isfinite(sig.reject_outliers(x, 7, floor=6.0)[100])
    assert np.isnan(sig.reject_outliers(x, 7, floor=4.0)[100])
    few = np.array([0.0, np.nan, 100.0, np.nan, 0.0, 0.0])  # 4 finite samples: left alone
    np.testing.assert_array_equal(sig.reject_outliers(few, 3), few)


def test_reject_outliers_keeps_nans_in_place() -> None:
    x = np.linspace(0, 10, 50)
    x[[10, 11, 12]] = np.nan
    out = sig.reject_outliers(x, 5)
    assert np.isnan(out[[10, 11, 12]]).all() and np.isfinite(np.delete(out, [10, 11, 12])).all()


# --------------------------------------------------------------------------- gaps


def test_interpolate_gaps_is_linear_in_time_not_in_index() -> None:
    t = np.array([0.0, 0.01, 0.05, 0.06, 0.10, 0.11])  # uneven timestamps
    x = 7.0 + 100.0 * t  # a straight line in time
    holed = x.copy()
    holed[[2, 3]] = np.nan  # bounded by t=0.01 and t=0.10: a 0.09 s gap
    out = sig.interpolate_gaps(holed, t, max_gap_s=0.1)
    np.testing.assert_allclose(out, x, atol=1e-12)


def test_interpolate_gaps_leaves_long_gaps_and_ends() -> None:
    t = np.arange(40) / FPS
    x = np.sin(t)
    x[:3] = np.nan  # leading
    x[10:17] = np.nan  # 8 intervals between the valid samples: 0.133 s > 0.1 s
    x[25:30] = np.nan  # 6 intervals: 0.1 s, filled
    x[-2:] = np.nan  # trailing
    out = sig.interpolate_gaps(x, t, max_gap_s=0.1)
    assert np.isnan(out[:3]).all() and np.isnan(out[-2:]).all()
    assert np.isnan(out[10:17]).all()
    assert np.isfinite(out[25:30]).all()
    # the filled values lie on the chord between the samples bounding the gap
    chord = np.interp(t[25:30], t[[24, 30]], x[[24, 30]])
    np.testing.assert_allclose(out[25:30], chord)
    one = np.full(5, np.nan)
    one[2] = 1.0  # a single finite sample: nothing to interpolate between
    np.testing.assert_array_equal(sig.interpolate_gaps(one, np.arange(5.0)), one)


# --------------------------------------------------------------------------- low-pass


def test_cutoff_is_capped_below_nyquist() -> None:
    assert sig.cutoff_for(240.0, 10.0) == 10.0
    assert sig.cutoff_for(20.0, 10.0) == pytest.approx(8.0)


def test_lowpass_is_zero_phase_on_a_known_sine() -> None:
    t = np.arange(600) / FPS
    slow = np.sin(2 * np.pi * 1.5 * t)
    fast = 0.5 * np.sin(2 * np.pi * 25.0 * t)  # far above the 10 Hz cut-off
    out = sig.lowpass(slow + fast, FPS, cutoff_hz=10.0)
    inner = slice(30, -30)
    # no lag and no amplitude change in the pass band; the 25 Hz part is removed
    assert np.abs(out - slow)[inner].max() < 0.02
    # a causal filter of the same design lags: the test above would catch it
    sos = butter(2, 10.0 / (FPS / 2), output="sos")
    causal = sosfilt(sos, slow + fast)
    assert np.abs(causal - slow)[inner].max() > 0.1


@pytest.mark.parametrize("fps", [25.0, 29.97, 60.0, 240.0])
def test_the_numpy_filters_match_scipy(fps: float) -> None:
    """kmo does not load SciPy; its own filters give SciPy's answers (SciPy is a test
    dependency only): the Butterworth design, zero-phase filtering with SciPy's default
    padding, running medians (exactly) and peaks by prominence (exactly)."""
    from scipy.ndimage import median_filter
    from scipy.signal import find_peaks, sosfiltfilt

    rng = np.random.default_rng(int(fps))
    wn = sig.cutoff_for(fps, 10.0) / (fps / 2)
    b, a = sig.butter2(wn)
    sos = butter(2, wn, output="sos")
    np.testing.assert_allclose(np.concatenate([b, a]), sos[0], rtol=1e-12, atol=1e-15)
    for n in (4, 7, 30, 500):
        x = np.cumsum(rng.normal(size=n)) * 10
        want = sosfiltfilt(sos, x, padlen=min(9, n - 1))
        np.testing.assert_allclose(sig.lowpass(x, fps), want, rtol=0, atol=1e-9)
        stepped = np.round(x / 10)  # flat tops and repeated values
        for size in (3, 7, 13):
            np.testing.assert_array_equal(
                sig.running_median(stepped, size), median_filter(stepped, size, mode="nearest")
            )
        for prom in (0.5, 3.0, 20.0):
            for y in (x, stepped):
                assert sig.prominent_peaks(y, prom) == list(find_peaks(y, prominence=prom)[0])


def test_running_median_leaves_nans_out() -> None:
    x = np.array([np.nan, 1.0, 5.0, np.nan, 3.0, np.nan, np.nan, np.nan])
    np.testing.assert_array_equal(
        sig.running_median(x, 3), [1.0, 3.0, 3.0, 4.0, 3.0, 3.0, np.nan, np.nan]
    )


def test_lowpass_filters_each_finite_run_separately() -> None:
    x = np.concatenate([np.zeros(40), [np.nan] * 5, np.full(40, 100.0), [np.nan], [5.0, 6.0]])
    out = sig.lowpass(x, FPS)
    assert np.isnan(out[40:45]).all() and np.isnan(out[85])
    np.testing.assert_allclose(out[:40], 0.0, atol=1e-9)  # the step is not smeared across
    np.testing.assert_allclose(out[45:85], 100.0, atol=1e-9)
    np.testing.assert_array_equal(out[86:], [5.0, 6.0])  # too short to filter: unchanged


def test_lowpass_segments_break_at_the_given_indices() -> None:
    x = np.concatenate([np.zeros(60), np.full(60, 100.0)])
    whole = sig.lowpass(x, FPS)
    assert 1.0 < whole[58] < 99.0 or 1.0 < whole[61] < 99.0  # one filter smears the step
    out = sig.lowpass_segments(x, FPS, breaks=[60, 0, len(x), 500])  # out-of-range: ignored
    np.testing.assert_allclose(out[:60], 0.0, atol=1e-9)
    np.testing.assert_allclose(out[60:], 100.0, atol=1e-9)


def test_finite_runs_are_half_open() -> None:
    x = np.array([np.nan, 1, 2, np.nan, np.nan, 3, np.nan, 4, 5])
    assert [(int(a), int(b)) for a, b in sig.finite_runs(x)] == [(1, 3), (5, 6), (7, 9)]
    assert sig.finite_runs(np.full(3, np.nan)) == []


# --------------------------------------------------------------------------- derivative


def test_derivative_of_a_quadratic_on_uneven_timestamps() -> None:
    rng = np.random.default_rng(3)
    t = np.cumsum(rng.uniform(0.01, 0.03, 60))
    x = 3 * t**2 - 2 * t + 1
    d = sig.derivative(x, t)
    np.testing.assert_allclose(d[1:-1], 6 * t[1:-1] - 2, rtol=1e-9)  # exact inside
    # at the ends one-sided differences are first order: right to O(dt)
    assert abs(d[0] - (6 * t[0] - 2)) < 6 * (t[1] - t[0])


def test_derivative_per_finite_run() -> None:
    t = np.arange(12) / 10.0
    x = 5.0 * t
    x[[4, 9]] = np.nan  # runs: 0-3, 5-8, 10-11 ...
    x[[6]] = np.nan  # ... and 5, 7-8: a single sample has no derivative
    d = sig.derivative(x, t)
    assert np.isnan(d[[4, 5, 6, 9]]).all()
    np.testing.assert_allclose(d[[0, 1, 2, 3, 7, 8, 10, 11]], 5.0)


# --------------------------------------------------------------------------- noise


def test_noise_sigma_white_noise_versus_smooth_trend() -> None:
    rng = np.random.default_rng(7)
    t = np.arange(6000) / FPS
    trend = 200 * np.sin(2 * np.pi * 0.2 * t) + 30 * t
    assert sig.noise_sigma(trend) < 0.05
    assert sig.noise_sigma(trend + rng.normal(0, 2.0, len(t))) == pytest.approx(2.0, rel=0.05)
    noisy = trend + rng.normal(0, 2.0, len(t))
    noisy[::50] += 500  # rare gross outliers barely move a median-based estimate
    noisy[::97] = np.nan
    assert sig.noise_sigma(noisy) == pytest.approx(2.0, rel=0.1)
    assert np.isnan(sig.noise_sigma(np.arange(6.0)))  # fewer than 5 second differences


# --------------------------------------------------------------------------- all together


def test_clean_landmarks_masks_rejects_fills_but_never_smooths() -> None:
    n = 120
    t = np.arange(n) / FPS
    lm = np.zeros((n, 2, 3))
    lm[:, :, 0] = 300 + 40 * np.sin(2 * np.pi * 1.0 * t)[:, None]
    lm[:, :, 1] = 500 + 60 * np.sin(2 * np.pi * 0.5 * t)[:, None]
    lm[:, :, 2] = 0.9
    raw = lm.copy()
    lm[30, 0, 1] += 200  # a gross outlier, then filled from its neighbours
    lm[60:63, 0, 2] = 0.1  # low score for 3 frames (0.067 s): masked, then filled
    lm[80:95, 1, 2] = 0.1  # 15 frames (0.27 s): masked and left missing
    out = sig.clean_landmarks(lm, t, FPS, outlier_floor_px=20.0)
    untouched = np.ones(n, bool)
    untouched[[30, 60, 61, 62]] = False
    np.testing.assert_array_equal(out[untouched, 0, :2], raw[untouched, 0, :2])  # no low-pass
    for i in (30, 60, 61, 62):  # filled on the chord: within the curvature over 4 frames
        np.testing.assert_allclose(out[i, 0, :2], raw[i, 0, :2], atol=2.0)
    assert np.isnan(out[80:95, 1, :2]).all()
    np.testing.assert_array_equal(out[:80, 1, :2], raw[:80, 1, :2])


@pytest.mark.parametrize("fps", [25, 60, 240])
def test_reject_bad_poses_drops_somebody_else_and_keeps_a_fast_body(fps: int) -> None:
    """A jump's fastest moments (the bottom of the countermovement, takeoff, landing) keep
    every frame at 25-240 fps; two frames where the model returned a blend of the jumper and
    a bystander 0.3 body heights aside are dropped whole, and nothing else."""
    t, lm, _ = series("cmj", fps)
    body = float(np.nanmax(lm[:, :, 1]) - np.nanmin(lm[:, :, 1]))
    window = max(5, int(round(0.1 * fps)) | 1)  # as clean_landmarks
    kept = sig.reject_bad_poses(lm, window, 0.03 * body)
    np.testing.assert_array_equal(kept, lm)
    bad = lm.copy()
    i = len(t) // 2
    bad[i : i + 2, ::2, 0] += 0.3 * body  # half the joints are the bystander's
    bad[i : i + 2, 1::2, 1] += 0.1 * body
    out = sig.reject_bad_poses(bad, window, 0.03 * body)
    assert np.isnan(out[i : i + 2, :, :2]).all()
    others = np.ones(len(t), bool)
    others[i : i + 2] = False
    np.testing.assert_array_equal(out[others], lm[others])
    np.testing.assert_array_equal(out[..., 2], bad[..., 2])  # scores kept
