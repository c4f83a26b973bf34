"""Build the committed sprite/background assets from the real footage (needs MediaPipe).

Run once: ``python -m tests.groundtruth assets --footage ../shared/footage --out tests/assets``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import av
import cv2
import numpy as np

CLIPS = {"front": "standing_front_bystander.mp4", "back": "standing_back.mp4"}
CANVAS_W, CANVAS_H = 1080, 1920
SPRITE_FRAME = 5
BG_STEP = 3  # every BG_STEP-th frame is segmented to find background behind the person


def _decode_rgb(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


def _center_crop(img: np.ndarray) -> tuple[np.ndarray, int]:
    """Crop a frame to the 1080-wide canvas; return it and the x offset removed."""
    dx = (img.shape[1] - CANVAS_W) // 2
    return img[:CANVAS_H, dx : dx + CANVAS_W], dx


def _largest_component(binary: np.ndarray) -> np.ndarray:
    n, lab, stats, _ = cv2.connectedComponentsWithStats(binary.astype(np.uint8), connectivity=8)
    if n <= 1:
        return np.zeros_like(binary, dtype=bool)
    k = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    return lab == k


def build_assets(footage: Path, out: Path, model: Path) -> None:
    """Cut the person out of each clip and write sprite, background, JSON, licence, README."""
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    opts = vision.PoseLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(model)),
        running_mode=vision.RunningMode.IMAGE,
        output_segmentation_masks=True,
        num_poses=2,
    )
    out.mkdir(parents=True, exist_ok=True)
    with vision.PoseLandmarker.create_from_options(opts) as lm:

        def detect(rgb: np.ndarray):
            return lm.detect(
                mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb))
            )

        for name, fname in CLIPS.items():
            frames = [_center_crop(f) for f in _decode_rgb(footage / fname)]
            dx = frames[0][1]
            frames = [f for f, _ in frames]
            ref = frames[SPRITE_FRAME]
            res = detect(ref)
            soft = np.zeros(ref.shape[:2], np.float32)
            for m in res.segmentation_masks:
                soft = np.maximum(soft, m.numpy_view()[..., 0])
            main = _largest_component(soft >= 0.5)
            # pick the pose whose hips lie inside the main component
            best = None
            for p in res.pose_landmarks:
                hx = int((p[23].x + p[24].x) / 2 * CANVAS_W)
                hy = int((p[23].y + p[24].y) / 2 * CANVAS_H)
                if 0 <= hx < CANVAS_W and 0 <= hy < CANVAS_H and main[hy, hx]:
                    best = p
            if best is None:
                raise RuntimeError(f"{name}: no pose on the main person")

            # sprite: binary core, slight dilation, soft edge
            k3 = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
            core = cv2.dilate(main.astype(np.uint8), k3)
            alpha = cv2.GaussianBlur(core.astype(np.float32), (0, 0), 1.0)
            alpha = np.clip(alpha, 0, 1)
            ys, xs = np.nonzero(alpha > 1 / 255)
            y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
            rgba = np.dstack([ref, np.round(alpha * 255).astype(np.uint8)])[y0:y1, x0:x1]
            cv2.imwrite(str(out / f"{name}_sprite.png"), cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGRA))

            # background: fill the dilated hole from frames where nobody covers the pixel
            hole = (
                cv2.dilate(
                    main.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (31, 31))
                )
                > 0
            )
            hy, hx = np.nonzero(hole)
            by0, by1, bx0, bx1 = hy.min(), hy.max() + 1, hx.min(), hx.max() + 1
            stack, valid = [], []
            big = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (41, 41))
            for i in range(0, len(frames), BG_STEP):
                if abs(i - SPRITE_FRAME) < 10:
                    continue
                r = detect(frames[i])
                occ = np.zeros(ref.shape[:2], np.uint8)
                for m in r.segmentation_masks:
                    occ |= (m.numpy_view()[..., 0] >= 0.2).astype(np.uint8)
                occ = cv2.dilate(occ, big)
                stack.append(frames[i][by0:by1, bx0:bx1].astype(np.float32))
                valid.append(occ[by0:by1, bx0:bx1] == 0)
            st = np.stack(stack)
            st[~np.stack(valid)] = np.nan
            with np.errstate(all="ignore"):
                med = np.nanmedian(st, axis=0)
            bg = ref.copy()
            sub_hole = hole[by0:by1, bx0:bx1]
            have = sub_hole & ~np.isnan(med[..., 0])
            patch = bg[by0:by1, bx0:bx1]
            patch[have] = np.round(med[have]).astype(np.uint8)
            missing = (hole & False).astype(np.uint8)
            missing[by0:by1, bx0:bx1] = (sub_hole & ~have).astype(np.uint8)
            if missing.any():
                bg = cv2.inpaint(bg, cv2.dilate(missing, k3), 7, cv2.INPAINT_TELEA)
            cv2.imwrite(
                str(out / f"{name}_background.jpg"),
                cv2.cvtColor(bg, cv2.COLOR_RGB2BGR),
                [cv2.IMWRITE_JPEG_QUALITY, 90],
            )

            a_bin = rgba[..., 3] >= 128
            rows = np.nonzero(a_bin.any(axis=1))[0]
            lms = [[p.x * CANVAS_W - x0, p.y * CANVAS_H - y0, p.visibility] for p in best]
            meta = {
                "source": fname,
                "frame": SPRITE_FRAME,
                "source_crop_x": int(dx),
                "canvas": [CANVAS_W, CANVAS_H],
                "x0": int(x0),
                "y0": int(y0),
                "sprite_size": [int(rgba.shape[1]), int(rgba.shape[0])],
                "foot_row": int(rows.max()),
                "ankle_row": float(min(lms[27][1], lms[28][1])),
                "hip_row": float((lms[23][1] + lms[24][1]) / 2),
                "head_row": int(rows.min()),
                "filled_from_other_frames": int(have.sum()),
                "inpainted": int((sub_hole & ~have).sum()),
                "landmarks": [[round(v, 2) for v in p] for p in lms],
            }
            (out / f"{name}.json").write_text(json.dumps(meta, indent=1) + "\n")
            print(f"{name}: sprite {rgba.shape[1]}x{rgba.shape[0]} at ({x0},{y0})")
    shutil.copyfile(footage / "LICENSE-Pose2Sim.txt", out / "LICENSE-Pose2Sim.txt")
    shutil.copyfile(Path(__file__).with_name("assets_README.md"), out / "README.md")
