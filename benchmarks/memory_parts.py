"""Where kmo's memory goes: resident set size (VmRSS, Linux) after each part loads.

Usage: ``python benchmarks/memory_parts.py`` (MediaPipe's full model must be available, as
for ``kmo analyze``). Prints MiB after the Python start, NumPy/OpenCV/PyAV, the first
MediaPipe instance (and one 1080x1920 frame inferred), and a second instance
(``--threads 2``). kmo does not load SciPy.
"""

from __future__ import annotations


def rss_mib() -> float:
    """This process's resident set size, MiB (Linux /proc)."""
    with open("/proc/self/status") as f:
        line = next(x for x in f if x.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def main() -> None:
    before = rss_mib()
    print(f"{'python':<34} {before:7.1f} MiB")

    def step(name: str) -> None:
        nonlocal before
        now = rss_mib()
        print(f"{name:<34} {now:7.1f} MiB  (+{now - before:.1f})")
        before = now

    import av  # noqa: F401
    import cv2  # noqa: F401
    import numpy as np

    step("numpy, opencv, pyav")
    from kinemotion_cli.backends import BackendOptions, create

    first, _ = create("mediapipe", BackendOptions(threads=1, quiet=True))
    frame = np.zeros((1920, 1080, 3), np.uint8)
    first.infer(frame, 0.0)
    step("mediapipe: first instance, 1 frame")
    second = first.twin()
    second.infer(frame, 0.0)
    step("mediapipe: second instance")
    second.close()
    first.close()


if __name__ == "__main__":
    main()
