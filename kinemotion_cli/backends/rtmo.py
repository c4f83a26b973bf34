"""RTMO: one-stage multi-person pose (COCO-17) through rtmlib.

COCO-17 has no head-top, heels or toes: in Halpe-26 those six points are NaN (``neck`` and
``hip`` are midpoints). The analysis then takes foot contact from the ankles (see
``jumps.common.compute_signals``), which sit a few centimetres above the ground and are
less precise at touchdown and toe-off than heels and toes.

Colour order: BGR. mmpose's RTMO configs load images with mmcv (BGR) and their data
preprocessor has mean 0, std 1 and no ``bgr_to_rgb``, the same as YOLOX; rtmlib feeds the
image unnormalised. The stand-in RTMO (``kinemotion_cli.testing``) compares its input with a
BGR background, so an RGB input would fail the tests.
"""

from __future__ import annotations

import time

import numpy as np

from kinemotion_cli.backends import BackendOptions
from kinemotion_cli.backends import ort as ortk
from kinemotion_cli.backends.rtmpose import check_input, check_mode, load_rtmlib, model_info
from kinemotion_cli.landmarks import HALPE26, coco17_to_halpe26
from kinemotion_cli.models.rtmlib_models import RTMO_MODES, check_session, resolve_models

#: Halpe-26 points RTMO cannot provide.
MISSING = tuple(n for n in HALPE26[17:] if n not in ("neck", "hip"))


class RTMOBackend:
    """RTMO-s/m/l on onnxruntime; COCO-17 embedded in Halpe-26."""

    name = "rtmo"

    def __init__(self, options: BackendOptions) -> None:
        check_mode(options.mode)
        model = RTMO_MODES[options.mode]
        (path,) = resolve_models(
            [model], options.model_dir, options.quiet, f"--backend rtmo --mode {options.mode}"
        )
        from rtmlib import RTMO

        t0 = time.perf_counter()
        holder: dict = {}

        def build() -> None:
            holder["rtmo"] = RTMO(
                str(path), model_input_size=model.input_size, backend="onnxruntime"
            )

        sessions, device = load_rtmlib(build, (path,), options)
        self._rtmo = holder["rtmo"]
        device_used, warnings = ortk.check_sessions(sessions, device, options.quiet)
        check_input(self._rtmo.session, model, path)
        if options.det_every > 1 or options.batch > 1:
            warnings.append("--det-every and --batch apply to rtmpose only")
        kinds, more = model_info(
            model.name, [check_session(self._rtmo.session, path, model)], [path], options.quiet
        )
        warnings += more
        self.info = {
            "backend": "rtmo",
            **kinds,
            "mode": options.mode,
            "model_files": [path.name],
            "device_requested": options.device,
            "device_used": device_used,
            "threads": ortk.threads_of(self._rtmo.session),
            "missing_landmarks": list(MISSING),
            "load_s": time.perf_counter() - t0,
        }
        if warnings:
            self.info["warnings"] = warnings

    def infer(self, image: np.ndarray, t_s: float) -> list[np.ndarray]:
        """People in one upright RGB frame (RTMO, like YOLOX, takes BGR)."""
        kpts, scores = self._rtmo(np.ascontiguousarray(image[..., ::-1]))
        kpts, scores = np.asarray(kpts, float), np.asarray(scores, float)
        people = []
        for k, s in zip(kpts.reshape(-1, 17, 2), scores.reshape(-1, 17)):
            if not np.any(s > 0):  # rtmlib's all-zero placeholder when nobody is detected
                continue
            coco = np.concatenate([k, np.clip(s, 0.0, 1.0)[:, None]], axis=1)
            people.append(coco17_to_halpe26(coco))
        return people

    def close(self) -> None:
        self._rtmo = None
