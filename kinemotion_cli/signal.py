"""Signal processing on landmark time series (pure numpy).

Everything takes explicit timestamps so variable-frame-rate video is handled; filters are
zero-phase and are applied per segment so they never smear takeoff or landing. The few
filters needed (running median, 2nd-order Butterworth, prominent peaks) are written here
in NumPy, so kmo does not load SciPy (75.6 MiB, ``benchmarks/memory_parts.py``).
"""

from __future__ import annotations

import warnings

import numpy as np

DEFAULT_MIN_SCORE = 0.3
DEFAULT_MAX_GAP_S = 0.1


def mask_low_confidence(landmarks: np.ndarray, min_score: float = DEFAULT_MIN_SCORE) -> np.ndarray:
    """Copy of ``(T, K, 3)`` landmarks with x, y set to NaN where score < ``min_score``."""
    out = np.array(landmarks, dtype=np.float64, copy=True)
    low = ~(np.nan_to_num(out[..., 2], nan=0.0) >= min_score)
    out[low, 0] = np.nan
    out[low, 1] = np.nan
    return out


def reject_outliers(x: np.ndarray, window: int, k: float = 4.0, floor: float = 0.0) -> np.ndarray:
    """Hampel filter: NaN where ``|x - rolling median| > max(k * 1.4826 * MAD, floor)``."""
    x = np.asarray(x, dtype=np.float64)
    out = x.copy()
    ok = np.isfinite(x)
    if ok.sum() < 5:
        return out
    window = max(3, int(window) | 1)
    filled = interpolate_gaps(x, np.arange(len(x), dtype=float), max_gap_s=np.inf)
    med = running_median(filled, window)
    mad = running_median(np.abs(filled - med), window) * 1.4826
    bad = ok & (np.abs(x - med) > np.maximum(k * mad, floor))
    out[bad] = np.nan
    return out


def rolling_median(x: np.ndarray, window: int) -> np.ndarray:
    """Running median over ``window`` samples, gaps bridged for the filter (NaN stays NaN)."""
    x = np.asarray(x, dtype=np.float64)
    if np.isfinite(x).sum() < 2:
        return np.full_like(x, np.nan)
    filled = interpolate_gaps(x, np.arange(len(x), dtype=float), max_gap_s=np.inf)
    return running_median(filled, max(3, int(window) | 1))


def running_median(x: np.ndarray, size: int) -> np.ndarray:
    """Median of each sample's ``size`` (odd) neighbours, the ends padded with their edge
    values; NaN samples are left out of the median (NaN where a window holds none)."""
    x = np.asarray(x, dtype=np.float64)
    if len(x) == 0:
        return x.copy()
    windows = np.lib.stride_tricks.sliding_window_view(np.pad(x, size // 2, mode="edge"), size)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN window gives NaN
        return np.nanmedian(windows, axis=1)


POSE_NOISE_FACTOR = 8.0  # a pose is wrong when its median joint strays this many times its usual


def _pose_deviation(landmarks: np.ndarray, reference: np.ndarray, window: int) -> np.ndarray:
    """Per frame, the median joint's distance from the running median of ``reference``."""
    med = np.stack(
        [
            np.stack([rolling_median(reference[:, k, c], window) for c in (0, 1)], axis=-1)
            for k in range(reference.shape[1])
        ],
        axis=1,
    )
    dist = np.hypot(landmarks[..., 0] - med[..., 0], landmarks[..., 1] - med[..., 1])
    seen = np.isfinite(dist).sum(axis=1) >= 3
    dev = np.full(landmarks.shape[0], np.nan)
    dev[seen] = np.nanmedian(dist[seen], axis=1)
    return dev


def reject_bad_poses(landmarks: np.ndarray, window: int, floor_px: float) -> np.ndarray:
    """Copy of ``(T, K, 3)`` landmarks with whole frames NaN where the pose is not the body's.

    A pose model that loses a person for a frame or two may return somebody else, or a blend
    of two people, at full confidence. A body moves smoothly, so its median joint stays close
    to where the neighbouring frames put it (their running median); in such a frame most
    joints jump together. A frame is dropped when its median joint is further from its
    running median than ``floor_px`` and than ``POSE_NOISE_FACTOR`` times the clip's usual.
    The running median is taken again without the suspects, so that a run of wrong frames
    does not drag their neighbours out with them.
    """
    out = np.array(landmarks, dtype=np.float64, copy=True)
    if out.shape[0] < 5:
        return out
    dev = _pose_deviation(out, out, window)
    if not np.isfinite(dev).any():
        return out
    limit = max(floor_px, POSE_NOISE_FACTOR * float(np.nanmedian(dev)))
    suspect = np.nan_to_num(dev, nan=0.0) > limit
    if not suspect.any():
        return out
    without = out.copy()
    without[suspect, :, :2] = np.nan
    bad = np.nan_to_num(_pose_deviation(out, without, window), nan=0.0) > limit
    out[bad, :, 0] = np.nan
    out[bad, :, 1] = np.nan
    return out


def interpolate_gaps(
    x: np.ndarray, t: np.ndarray, max_gap_s: float = DEFAULT_MAX_GAP_S
) -> np.ndarray:
    """Linearly fill NaN runs no longer than ``max_gap_s``; longer gaps and the ends stay NaN."""
    x = np.asarray(x, dtype=np.float64)
    out = x.copy()
    ok = np.isfinite(x)
    if ok.sum() < 2:
        return out
    idx = np.flatnonzero(ok)
    filled = np.interp(t, t[idx], x[idx])
    missing = np.flatnonzero(~ok)
    if missing.size == 0:
        return out
    # Group missing indices into runs and fill those bounded by valid samples and short enough.
    splits = np.flatnonzero(np.diff(missing) > 1) + 1
    for run in np.split(missing, splits):
        lo, hi = run[0] - 1, run[-1] + 1
        if lo < 0 or hi >= len(x):
            continue
        if t[hi] - t[lo] <= max_gap_s + 1e-9:
            out[run] = filled[run]
    return out


def cutoff_for(fps: float, cutoff_hz: float) -> float:
    """A low-pass cut-off usable at ``fps`` (kept below 0.4 x the sampling rate)."""
    return float(min(cutoff_hz, 0.4 * fps))


def butter2(wn: float) -> tuple[np.ndarray, np.ndarray]:
    """(b, a) of the 2nd-order Butterworth low-pass with cut-off ``wn`` (1 = Nyquist):
    the bilinear transform of the analog prototype, pre-warped at the cut-off."""
    k = float(np.tan(np.pi * wn / 2.0))
    norm = 1.0 / (1.0 + np.sqrt(2.0) * k + k * k)
    b0 = k * k * norm
    a = [1.0, 2.0 * (k * k - 1.0) * norm, (1.0 - np.sqrt(2.0) * k + k * k) * norm]
    return np.array([b0, 2.0 * b0, b0]), np.array(a)


def _biquad(b: np.ndarray, a: np.ndarray, x: np.ndarray, state: tuple[float, float]) -> np.ndarray:
    """One pass of a biquad (direct form II transposed) from ``state``."""
    b0, b1, b2 = (float(v) for v in b)
    a1, a2 = float(a[1]), float(a[2])
    z1, z2 = state
    out = np.empty(len(x))
    for i, xi in enumerate(x.tolist()):
        yi = b0 * xi + z1
        z1 = b1 * xi - a1 * yi + z2
        z2 = b2 * xi - a2 * yi
        out[i] = yi
    return out


def filtfilt(b: np.ndarray, a: np.ndarray, x: np.ndarray, padlen: int) -> np.ndarray:
    """Zero-phase biquad filtering: forward then backward, each pass started at the steady
    state of its first sample, ``x`` extended at both ends by ``padlen`` samples mirrored
    through the end points (odd extension)."""
    x = np.asarray(x, dtype=np.float64)
    ext = np.concatenate([2 * x[0] - x[padlen:0:-1], x, 2 * x[-1] - x[-2 : -padlen - 2 : -1]])
    gain = float(b.sum() / a.sum())  # the output of a constant input, per unit
    z2 = float(b[2] - a[2] * gain)
    z1 = float(b[1] - a[1] * gain + z2)
    y = _biquad(b, a, ext, (z1 * ext[0], z2 * ext[0]))
    y = _biquad(b, a, y[::-1], (z1 * y[-1], z2 * y[-1]))[::-1]
    return y[padlen : len(y) - padlen]


LOWPASS_PAD = 9  # samples of odd extension at each end of a filtered run


def lowpass(x: np.ndarray, fps: float, cutoff_hz: float = 10.0) -> np.ndarray:
    """Zero-phase 2nd-order Butterworth low-pass of each finite run of ``x`` (NaNs kept)."""
    x = np.asarray(x, dtype=np.float64)
    out = x.copy()
    b, a = butter2(cutoff_for(fps, cutoff_hz) / (fps / 2.0))
    for lo, hi in finite_runs(x):
        seg = x[lo:hi]
        padlen = min(LOWPASS_PAD, len(seg) - 1)
        if len(seg) >= 4 and padlen > 0:
            out[lo:hi] = filtfilt(b, a, seg, padlen)
    return out


def prominent_peaks(x: np.ndarray, prominence: float) -> list[int]:
    """Local maxima of ``x`` (the middle of a flat top) that rise at least ``prominence``
    above the higher of the lowest points between them and a higher sample (or the end) on
    each side."""
    x = np.asarray(x, dtype=np.float64)
    n = len(x)
    tops = []
    i = 1
    while i < n - 1:
        if x[i - 1] < x[i]:
            j = i + 1
            while j < n - 1 and x[j] == x[i]:
                j += 1
            if x[j] < x[i]:
                tops.append((i + j - 1) // 2)
                i = j
                continue
        i += 1
    out = []
    for p in tops:
        bases = []
        for step in (-1, 1):
            k, low = p, x[p]
            while 0 <= k < n and x[k] <= x[p]:
                low = min(low, x[k])
                k += step
            bases.append(low)
        if x[p] - max(bases) >= prominence:
            out.append(p)
    return out


def lowpass_segments(
    x: np.ndarray, fps: float, breaks: list[int], cutoff_hz: float = 10.0
) -> np.ndarray:
    """Low-pass ``x`` separately between break indices (e.g. takeoff, landing)."""
    out = np.asarray(x, dtype=np.float64).copy()
    edges = [0, *sorted(b for b in breaks if 0 < b < len(out)), len(out)]
    for lo, hi in zip(edges[:-1], edges[1:]):
        out[lo:hi] = lowpass(out[lo:hi], fps, cutoff_hz)
    return out


def finite_runs(x: np.ndarray) -> list[tuple[int, int]]:
    """Half-open index ranges of consecutive finite samples."""
    ok = np.concatenate([[False], np.isfinite(x), [False]])
    d = np.diff(ok.astype(np.int8))
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1)))


def derivative(x: np.ndarray, t: np.ndarray) -> np.ndarray:
    """First derivative per second (central differences on the real timestamps)."""
    x = np.asarray(x, dtype=np.float64)
    out = np.full_like(x, np.nan)
    for lo, hi in finite_runs(x):
        if hi - lo >= 2:
            out[lo:hi] = np.gradient(x[lo:hi], t[lo:hi])
    return out


def noise_sigma(x: np.ndarray, use: np.ndarray | None = None) -> float:
    """Robust white-noise level of a signal from its second differences (NaN-aware); with
    ``use``, only from three consecutive samples it marks."""
    d2 = np.diff(np.asarray(x, dtype=np.float64), n=2)
    if use is not None:
        ok = np.asarray(use, bool)
        d2 = d2[ok[:-2] & ok[1:-1] & ok[2:]]
    d2 = d2[np.isfinite(d2)]
    if d2.size < 5:
        return float("nan")
    return float(1.4826 * np.median(np.abs(d2 - np.median(d2))) / np.sqrt(6.0))


def clean_landmarks(
    landmarks: np.ndarray,
    t: np.ndarray,
    fps: float,
    min_score: float = DEFAULT_MIN_SCORE,
    max_gap_s: float = DEFAULT_MAX_GAP_S,
    outlier_floor_px: float = 0.0,
    pose_floor_px: float | None = None,
) -> np.ndarray:
    """Mask low scores, drop wrong poses (when ``pose_floor_px`` is given, see
    :func:`reject_bad_poses`), reject outliers, fill short gaps. No low-pass: events use this."""
    out = mask_low_confidence(landmarks, min_score)
    window = max(5, int(round(0.1 * fps)) | 1)
    if pose_floor_px is not None:
        out = reject_bad_poses(out, window, pose_floor_px)
    for k in range(out.shape[1]):
        for c in (0, 1):
            col = reject_outliers(out[:, k, c], window, floor=outlier_floor_px)
            out[:, k, c] = interpolate_gaps(col, t, max_gap_s)
    return out
