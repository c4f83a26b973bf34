"""Write the committed sample videos (and, on demand, the full-HD benchmark clip)."""

from __future__ import annotations

import shutil
from pathlib import Path

from .render import ASSETS, Spec, render

SAMPLES = {
    "cmj_60fps.mp4": Spec(jump="cmj", source="front", crf=23),
    "drop_jump_60fps.mp4": Spec(jump="dj", source="back", crf=23),
    "squat_jump_60fps.mp4": Spec(jump="sj", source="back", crf=23),
}
BENCH = (
    "bench_1080x1920_60fps.mp4",
    Spec(jump="cmj", source="front", width=1080, height=1920, crf=23),
)


def write_samples(out: Path, bench: bool = True) -> None:
    """Render the samples, their truth files, the licence copy and a README into out."""
    out.mkdir(parents=True, exist_ok=True)
    for name, spec in SAMPLES.items():
        render(spec, out / name)
        print(out / name, (out / name).stat().st_size)
    if bench:
        render(BENCH[1], out / BENCH[0])
        print(out / BENCH[0], (out / BENCH[0]).stat().st_size)
    shutil.copyfile(ASSETS / "LICENSE-Pose2Sim.txt", out / "LICENSE-Pose2Sim.txt")
    shutil.copyfile(Path(__file__).with_name("samples_README.md"), out / "README.md")
