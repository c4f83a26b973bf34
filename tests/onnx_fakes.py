"""Stand-in rtmlib models for the committed sample videos (``make fake-models``).

The generator lives in the package (``kinemotion_cli.testing.standins``); this module only
adds the sample videos' backgrounds, which come from the ground-truth generator here.
"""

from __future__ import annotations

import numpy as np

from kinemotion_cli.testing.standins import (  # noqa: F401 - re-exported for the tests
    REAL_MACS,
    TEMPLATE,
    letterbox,
    make_detector,
    make_pose,
    make_rtmo,
    simcc_template,
    write_model_dir,
)
from kinemotion_cli.testing.standins import main as _main


def scene_background(spec) -> np.ndarray:  # noqa: ANN001 - tests.groundtruth.Spec
    """The static background (uint8 RGB) of a generated ground-truth video."""
    from tests.groundtruth.render import Scene

    return np.clip(Scene(spec).bg_box + 0.5, 0, 255).astype(np.uint8)


def sample_backgrounds() -> list[np.ndarray]:
    """Backgrounds of every committed sample video (one per distinct scene)."""
    from tests.groundtruth.samples import BENCH, SAMPLES

    unique: dict[bytes, np.ndarray] = {}
    for spec in [*SAMPLES.values(), BENCH[1]]:
        bg = scene_background(spec)
        unique.setdefault(bg.tobytes(), bg)
    return list(unique.values())


def main(argv: list[str] | None = None) -> int:
    """``python -m tests.onnx_fakes --out DIR [--mode M]``: stand-ins that track the person in
    every sample video."""
    return _main(argv, backgrounds=sample_backgrounds())


if __name__ == "__main__":
    raise SystemExit(main())
