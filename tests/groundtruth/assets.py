"""Build the committed sprite/background assets from the real footage (needs MediaPipe).

Run once: ``python -m tests.groundtruth assets --footage ../shared/footage --out tests/assets``
(``--scenes two_front,two_oblique`` rebuilds only those; the committed ``front``/``back``
assets were made before the two-people scenes existed and are left as they are).
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


def _landmarker_options(model: Path, num_poses: int):  # noqa: ANN202
    """IMAGE-mode PoseLandmarker options with segmentation masks, for cutting people out."""
    from mediapipe.tasks.python import BaseOptions, vision

    return vision.PoseLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(model)),
        running_mode=vision.RunningMode.IMAGE,
        output_segmentation_masks=True,
        num_poses=num_poses,
    )


def build_assets(footage: Path, out: Path, model: Path, names=None) -> None:
    """Cut the person out of each clip and write sprite, background, JSON, licence, README."""
    import mediapipe as mp
    from mediapipe.tasks.python import vision

    opts = _landmarker_options(model, 2)
    out.mkdir(parents=True, exist_ok=True)
    with vision.PoseLandmarker.create_from_options(opts) as lm:

        def detect(rgb: np.ndarray):
            return lm.detect(
                mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb))
            )

        for name, fname in CLIPS.items():
            if names and name not in names:
                continue
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


# ---------------------------------------------------------------------------------------------
# Two-people clips: both people are cut out (each can be the jumper, the other a bystander)
# and both are removed from the background.
# ---------------------------------------------------------------------------------------------

# scene -> (clip, sprite frame, {person: detection crop x0, y0, x1, y1 on the 1080x1920 canvas})
TWO_PEOPLE = {
    "two_front": (
        "two_people_front.mp4",
        5,
        {"man": (380, 300, 800, 1250), "woman": (0, 500, 430, 1700)},
    ),
    "two_oblique": (
        "two_people_oblique.mp4",
        5,
        {"man": (380, 300, 900, 1420), "woman": (40, 380, 430, 1150)},
    ),
}
LEFT_FOOT_IDS, RIGHT_FOOT_IDS = (27, 29, 31), (28, 30, 32)  # ankle, heel, foot index


def _detect_crop(lm, rgb: np.ndarray, box: tuple[int, int, int, int]):
    """Pose + soft mask of the main person inside box (canvas coordinates)."""
    import mediapipe as mp

    x0, y0, x1, y1 = box
    crop = np.ascontiguousarray(rgb[y0:y1, x0:x1])
    res = lm.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=crop))
    soft = np.zeros(rgb.shape[:2], np.float32)
    if not res.pose_landmarks:
        return None, soft
    m = res.segmentation_masks[0].numpy_view()[..., 0]
    soft[y0:y1, x0:x1] = m
    w, h = x1 - x0, y1 - y0
    pose = [[p.x * w + x0, p.y * h + y0, p.visibility] for p in res.pose_landmarks[0]]
    return pose, soft


def _sprite_meta(rgba: np.ndarray, x0: int, y0: int, pose: list, extra: dict) -> dict:
    a_bin = rgba[..., 3] >= 128
    rows = np.nonzero(a_bin.any(axis=1))[0]
    lms = [[p[0] - x0, p[1] - y0, p[2]] for p in pose]
    # per foot: lowest opaque row near the foot's landmarks (the far foot stands higher)
    feet = {}
    for side, ids in (("left", LEFT_FOOT_IDS), ("right", RIGHT_FOOT_IDS)):
        xs = [lms[i][0] for i in ids]
        c0 = max(0, int(min(xs)) - 8)
        c1 = min(rgba.shape[1], int(max(xs)) + 9)
        r_ank = int(lms[ids[0]][1])
        sub = a_bin[r_ank:, c0:c1]
        sole = int(r_ank + np.nonzero(sub.any(axis=1))[0].max()) if sub.any() else int(rows.max())
        feet[side] = {
            "ankle": [round(lms[ids[0]][0], 2), round(lms[ids[0]][1], 2)],
            "x_range": [c0, c1 - 1],
            "sole_row": sole,
        }
    return {
        **extra,
        "x0": int(x0),
        "y0": int(y0),
        "sprite_size": [int(rgba.shape[1]), int(rgba.shape[0])],
        "foot_row": int(rows.max()),
        "ankle_row": float(min(lms[27][1], lms[28][1])),
        "hip_row": float((lms[23][1] + lms[24][1]) / 2),
        "head_row": int(rows.min()),
        "feet": feet,
        "landmarks": [[round(v, 2) for v in p] for p in lms],
    }


def build_two_people(footage: Path, out: Path, model: Path, scenes=None) -> None:
    """Cut both people out of each two-people clip; background with both removed."""
    import mediapipe as mp
    from mediapipe.tasks.python import vision

    opts = _landmarker_options(model, 1)
    out.mkdir(parents=True, exist_ok=True)
    opts2 = _landmarker_options(model, 2)
    k3 = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    big = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (61, 61))
    with (
        vision.PoseLandmarker.create_from_options(opts) as lm,
        vision.PoseLandmarker.create_from_options(opts2) as lm2,
    ):
        for scene, (fname, fno, crops) in TWO_PEOPLE.items():
            if scenes and scene not in scenes:
                continue
            frames = [_center_crop(f) for f in _decode_rgb(footage / fname)]
            dx = frames[0][1]
            frames = [f for f, _ in frames]
            ref = frames[fno]
            hole = np.zeros(ref.shape[:2], bool)
            for person, box in crops.items():
                pose, soft = _detect_crop(lm, ref, box)
                if pose is None:
                    raise RuntimeError(f"{scene}/{person}: no pose in the crop")
                main = _largest_component(soft >= 0.5)
                core = cv2.dilate(main.astype(np.uint8), k3)
                alpha = np.clip(cv2.GaussianBlur(core.astype(np.float32), (0, 0), 1.0), 0, 1)
                ys, xs = np.nonzero(alpha > 1 / 255)
                y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
                rgba = np.dstack([ref, np.round(alpha * 255).astype(np.uint8)])[y0:y1, x0:x1]
                name = f"{scene}_{person}"
                cv2.imwrite(
                    str(out / f"{name}_sprite.png"),
                    cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGRA),
                    [cv2.IMWRITE_PNG_COMPRESSION, 9],
                )
                meta = _sprite_meta(
                    rgba,
                    x0,
                    y0,
                    pose,
                    {
                        "source": fname,
                        "scene": scene,
                        "person": person,
                        "frame": fno,
                        "source_crop_x": int(dx),
                        "canvas": [CANVAS_W, CANVAS_H],
                    },
                )
                (out / f"{name}.json").write_text(json.dumps(meta, indent=1) + "\n")
                hole |= (
                    cv2.dilate(
                        main.astype(np.uint8),
                        cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (31, 31)),
                    )
                    > 0
                )
                print(f"{name}: sprite {rgba.shape[1]}x{rgba.shape[0]} at ({x0},{y0})")
            hy, hx = np.nonzero(hole)
            by0, by1, bx0, bx1 = hy.min(), hy.max() + 1, hx.min(), hx.max() + 1
            stack, valid = [], []
            for i in range(0, len(frames), BG_STEP):
                if abs(i - fno) < 10:
                    continue
                # anybody anywhere in this frame: both people's crops, the halves of the
                # frame and the whole frame (two poses)
                occ = np.zeros(ref.shape[:2], np.uint8)
                boxes = [*crops.values(), (0, 0, 600, CANVAS_H), (480, 0, CANVAS_W, CANVAS_H)]
                for box in boxes:
                    _, soft = _detect_crop(lm, frames[i], box)
                    occ |= (soft >= 0.1).astype(np.uint8)
                res = lm2.detect(
                    mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(frames[i]))
                )
                for msk in res.segmentation_masks or []:
                    occ |= (msk.numpy_view()[..., 0] >= 0.1).astype(np.uint8)
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
            bg[by0:by1, bx0:bx1][have] = np.round(med[have]).astype(np.uint8)
            missing = np.zeros(ref.shape[:2], np.uint8)
            missing[by0:by1, bx0:bx1] = (sub_hole & ~have).astype(np.uint8)
            if missing.any():
                bg = cv2.inpaint(bg, cv2.dilate(missing, k3), 7, cv2.INPAINT_TELEA)
            cv2.imwrite(
                str(out / f"{scene}_background.jpg"),
                cv2.cvtColor(bg, cv2.COLOR_RGB2BGR),
                [cv2.IMWRITE_JPEG_QUALITY, 90],
            )
            print(f"{scene}: filled {int(have.sum())} px from other frames, inpainted "
                  f"{int((sub_hole & ~have).sum())}")  # fmt: skip
    shutil.copyfile(footage / "LICENSE-Pose2Sim.txt", out / "LICENSE-Pose2Sim.txt")
    shutil.copyfile(Path(__file__).with_name("assets_README.md"), out / "README.md")
