"""Check a rendered video with the real MediaPipe pose model (detection rate, foot-y error)."""

from __future__ import annotations

import json
from pathlib import Path

import av
import numpy as np

FOOT_IDS = (27, 28, 29, 30, 31, 32)  # ankles, heels, foot indices


def check_video(video: Path, model: Path) -> dict:
    """Run PoseLandmarker (IMAGE mode) on each frame; compare foot landmarks with the truth."""
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    truth = json.loads(video.with_name(video.stem + ".truth.json").read_text())
    opts = vision.PoseLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(model)), running_mode=vision.RunningMode.IMAGE
    )
    low, ankle = [], []
    aff = truth["per_frame"].get("camera_affine")
    with vision.PoseLandmarker.create_from_options(opts) as lm, av.open(str(video)) as cont:
        for fr in cont.decode(video=0):
            rgb = np.ascontiguousarray(
                fr.to_ndarray(format="rgb24")
            )  # PyAV pads rows; MediaPipe needs C order
            rot = fr.rotation  # PyAV: counter-clockwise degrees to turn the stored picture upright
            if rot:
                rgb = np.ascontiguousarray(np.rot90(rgb, k=rot // 90))
            h = rgb.shape[0]
            res = lm.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb))
            if not res.pose_landmarks:
                low.append(np.nan)
                ankle.append(np.nan)
                continue
            p = res.pose_landmarks[0]
            w = rgb.shape[1]
            pts = {i: (p[i].x * w, p[i].y * h) for i in FOOT_IDS}
            if aff is not None:  # moving camera: compare in static-scene (world) pixels
                a = np.vstack([np.reshape(aff[len(low)], (2, 3)), [0, 0, 1]])
                inv = np.linalg.inv(a)
                pts = {i: tuple(inv[:2, :2] @ np.array(v) + inv[:2, 2]) for i, v in pts.items()}
            low.append(max(v[1] for v in pts.values()))
            ankle.append(max(pts[27][1], pts[28][1]))
    low_a, ank_a = np.array(low), np.array(ankle)
    foot = np.array(truth["per_frame"]["foot_row_px"])
    hip = np.array(truth["per_frame"]["hip_z_m"]) - np.array(truth["per_frame"]["foot_z_m"])
    ok = ~np.isnan(low_a)
    out = {
        "video": str(video),
        "frames": len(low_a),
        "detected": int(ok.sum()),
        "mechanisms": truth.get("mechanisms", []),
    }
    for name, arr in (("lowest_foot_landmark", low_a), ("lower_ankle", ank_a)):
        err = arr - foot
        off = np.nanmedian(err)
        res_ = np.abs(err - off)
        crouch = ok & (hip < -0.05)
        air = ok & (np.array(truth["per_frame"]["foot_z_m"]) > 0.02)
        out[name] = {
            "offset_px": round(float(off), 2),
            "median_abs_err_px": round(float(np.nanmedian(res_)), 2),
            "p95_abs_err_px": round(float(np.nanpercentile(res_, 95)), 2),
            "max_abs_err_px": round(float(np.nanmax(res_)), 2),
            "max_abs_err_crouch_px": round(float(res_[crouch].max()), 2) if crouch.any() else None,
            "max_abs_err_air_px": round(float(res_[air].max()), 2) if air.any() else None,
        }
    return out
