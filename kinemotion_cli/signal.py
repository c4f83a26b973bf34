"""Signal processing on landmark time series (pure numpy/scipy).

Everything takes explicit timestamps so variable-frame-rate video is handled; filters are
zero-phase and are applied per segment so they never smear takeoff or landing. SciPy is
imported where it is used, so the CLI starts without it (``pipeline.run`` loads it in the
background).
"""

from __future__ import annotations

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
    from scipy.ndimage import median_filter

    med = median_filter(filled, size=window, mode="nearest")
    mad = median_filter(np.abs(filled - med), size=window, mode="nearest") * 1.4826
    bad = ok & (np.abs(x - med) > np.maximum(k * mad, floor))
    out[bad] = np.nan
    return out


def rolling_median(x: np.ndarray, window: int) -> np.ndarray:
    """Running median over ``window`` samples, gaps bridged for the filter (NaN stays NaN)."""
    x = np.asarray(x, dtype=np.float64)
    if np.isfinite(x).sum() < 2:
        return np.full_like(x, np.nan)
    filled = interpolate_gaps(x, np.arange(len(x), dtype=float), max_gap_s=np.inf)
    from scipy.ndimage import median_filter

    return median_filter(filled, size=max(3, int(window) | 1), mode="nearest")


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


def lowpass(x: np.ndarray, fps: float, cutoff_hz: float = 10.0, order: int = 2) -> np.ndarray:
    """Zero-phase Butterworth low-pass of each finite run of ``x`` (NaNs are kept)."""
    x = np.asarray(x, dtype=np.float64)
    out = x.copy()
    wn = cutoff_for(fps, cutoff_hz) / (fps / 2.0)
    from scipy.signal import butter, sosfiltfilt

    sos = butter(order, wn, btype="low", output="sos")
    for lo, hi in finite_runs(x):
        seg = x[lo:hi]
        padlen = min(3 * (2 * len(sos) + 1), len(seg) - 1)
        if len(seg) >= 4 and padlen > 0:
            out[lo:hi] = sosfiltfilt(sos, seg, padlen=padlen)
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


def noise_sigma(x: np.ndarray) -> float:
    """Robust white-noise level of a signal from its second differences (NaN-aware)."""
    d2 = np.diff(np.asarray(x, dtype=np.float64), n=2)
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
