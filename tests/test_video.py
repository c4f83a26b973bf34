"""video.py: probe, the decode report, rotation, timestamps, damaged and concealed frames."""

from __future__ import annotations

import dataclasses
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from kinemotion_cli.errors import ExitCode, KmoError
from kinemotion_cli.video import (
    DamagedRange,
    FrameStream,
    decode,
    decoded_size,
    frame_timing,
    iter_frames,
    measured_fps,
    probe,
    upright,
)
from tests.conftest import SAMPLE, decode_report

pytestmark = pytest.mark.xdist_group("video")  # the undamaged reference decode is shared

TB = Fraction(1, 1000)


def _mkv(path: Path, pts_ms: list[int], size: tuple[int, int] = (64, 48)) -> Path:
    """An intra-only (MJPEG) Matroska file whose frames carry exactly these timestamps (ms);
    frame i is a flat grey of level 7 i (mod 256)."""
    import av

    w, h = size
    with av.open(str(path), "w", format="matroska") as out:
        st = out.add_stream("mjpeg", rate=30)
        st.width, st.height, st.pix_fmt = w, h, "yuvj420p"
        st.codec_context.time_base = st.time_base = TB
        packets = []
        for i in range(len(pts_ms)):
            f = av.VideoFrame.from_ndarray(np.full((h, w, 3), 7 * i % 256, np.uint8), "rgb24")
            f.pts, f.time_base = i, TB
            packets += list(st.encode(f))
        packets += list(st.encode(None))
        for p, t in zip(packets, pts_ms):
            p.pts = p.dts = t
            p.time_base = TB
            out.mux(p)
    return path


def _read(path: Path, **kw) -> tuple[list, object]:
    stream = decode(str(path), probe(str(path)), **kw)
    frames = list(stream)
    return frames, stream.report


# --------------------------------------------------------------------------- probe, decode


def test_probe_the_sample() -> None:
    info = probe(str(SAMPLE))
    assert (info.width, info.height, info.fps, info.frames) == (540, 960, 60.0, 221)
    assert info.rotation_deg == 0 and info.codec == "h264" and info.warnings == ()
    assert info.duration_s == pytest.approx(221 / 60, abs=0.02)
    with pytest.raises(dataclasses.FrozenInstanceError):
        info.fps = 30.0  # type: ignore[misc]


def test_undamaged_file_reports_nothing_wrong() -> None:
    frames, r = _read(SAMPLE)
    assert len(frames) == r.frames == 221
    assert (r.undecodable, r.concealed, r.duplicate_frames, r.dropped_frames) == (0, 0, 0, 0)
    assert r.damaged == () and r.gaps == () and r.warnings == ()
    assert r.measured_fps == pytest.approx(60.0) and r.timestamp_jitter_ms == 0.0
    np.testing.assert_allclose(r.times, np.arange(221) / 60, atol=1e-9)
    assert [f.index for f in frames] == list(range(221))
    assert frames[0].image.shape == (960, 540, 3) and frames[0].image.dtype == np.uint8
    assert all(f.scale == 1.0 for f in frames)


def test_the_report_exists_only_once_the_stream_is_read() -> None:
    stream = decode(str(SAMPLE), probe(str(SAMPLE)))
    with pytest.raises(RuntimeError, match="not been read to its end"):
        stream.report  # noqa: B018
    it = iter(stream)
    next(it)
    it.close()  # stopped early: the decode thread ends, still no report
    with pytest.raises(RuntimeError):
        stream.report  # noqa: B018
    assert isinstance(stream, FrameStream)


def test_max_side_shrinks_frames_and_says_the_scale() -> None:
    frames, r = _read(SAMPLE, max_side=480)
    assert frames[0].image.shape == (480, 270, 3) and frames[0].scale == pytest.approx(2.0)
    assert r.frames == 221
    full = next(iter(iter_frames(str(SAMPLE), probe(str(SAMPLE)))))
    assert full.image.shape == (960, 540, 3)
    info = probe(str(SAMPLE))
    assert decoded_size(info, 480) == (270, 480) and decoded_size(info, None) == (540, 960)
    assert decoded_size(info, 0) == decoded_size(info, 960) == (540, 960)


# --------------------------------------------------------------------------- rotation


def test_upright_turns_counter_clockwise() -> None:
    img = np.arange(6).reshape(2, 3)
    assert upright(img, 0) is img
    np.testing.assert_array_equal(upright(img, 90), np.rot90(img, 1))
    np.testing.assert_array_equal(upright(img, 270), np.rot90(img, 3))
    np.testing.assert_array_equal(upright(img, -90), np.rot90(img, 3))


def test_rotated_file_is_decoded_upright(tmp_path: Path) -> None:
    """A portrait picture stored landscape with the phones' -90 display matrix."""
    import av

    from tests.groundtruth.render import _patch_tkhd

    upright_img = np.zeros((96, 64, 3), np.uint8)  # portrait: 64 wide, 96 tall
    upright_img[:24, :16] = 255  # a white block in the top-left corner
    stored = np.ascontiguousarray(np.rot90(upright_img, k=1))  # what a phone stores
    path = tmp_path / "portrait.mp4"
    with av.open(str(path), "w", format="mp4") as out:
        st = out.add_stream("libx264", rate=30)
        st.width, st.height, st.pix_fmt = 96, 64, "yuv420p"
        for _ in range(6):
            for p in st.encode(av.VideoFrame.from_ndarray(stored, "rgb24")):
                out.mux(p)
        for p in st.encode(None):
            out.mux(p)
    _patch_tkhd(path, -90)
    info = probe(str(path))
    assert info.rotation_deg == 270 and (info.width, info.height) == (64, 96)
    frames, _ = _read(path)
    img = frames[0].image
    assert img.shape == (96, 64, 3)
    assert img[:24, :16].mean() > 200 and img[40:, :].mean() < 30  # the block is top-left


# --------------------------------------------------------------------------- timestamps


def test_variable_frame_rate_times_are_the_presentation_times(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    pts = list(np.cumsum(rng.integers(14, 20, 60)) + 1000)  # 50-70 fps, starting at 1 s
    frames, r = _read(_mkv(tmp_path / "vfr.mkv", pts))
    np.testing.assert_allclose(r.times, (np.array(pts) - pts[0]) / 1000, atol=1e-9)
    assert [f.t for f in frames] == list(r.times)
    assert r.measured_fps == pytest.approx(1000 / np.median(np.diff(pts)))
    assert r.timestamp_jitter_ms == pytest.approx(np.std(np.diff(pts)), abs=1e-3)


def test_gaps_in_the_timestamps_are_dropped_frames(tmp_path: Path) -> None:
    pts = [33 * k for k in range(60) if k not in (20, 21, 40)]
    _, r = _read(_mkv(tmp_path / "gaps.mkv", pts))
    assert r.dropped_frames == 3 and len(r.gaps) == 2
    assert r.gaps[0] == pytest.approx((19 * 0.033, 22 * 0.033))
    assert r.damaged == () and r.undecodable == 0  # timing gaps are not damage


def test_repeated_timestamps_are_dropped_and_counted(tmp_path: Path) -> None:
    pts = [33 * k for k in range(40)]
    pts.insert(10, pts[9])  # the 10th frame's time twice
    frames, r = _read(_mkv(tmp_path / "dup.mkv", pts))
    assert len(frames) == 40 and r.duplicate_frames == 1
    assert r.warnings == ("1 frame(s) with a repeated or backwards timestamp dropped",)
    assert np.all(np.diff(r.times) > 0)


def test_mostly_repeated_timestamps_are_refused(tmp_path: Path) -> None:
    pts = sorted([33 * k for k in range(30)] * 2)  # every time twice: half the frames
    with pytest.raises(KmoError, match="broken timestamps") as exc:
        _read(_mkv(tmp_path / "dups.mkv", pts))
    assert exc.value.code == ExitCode.BAD_INPUT


def test_measured_fps_and_frame_timing_units() -> None:
    assert measured_fps(np.array([0.0, 0.1]), 25.0) == 25.0  # < 3 frames: the nominal rate
    t = np.arange(100) / 50
    assert measured_fps(t, 30.0) == pytest.approx(50.0)
    kept = np.delete(t, [10, 11, 50])
    dropped, gaps, jitter = frame_timing(kept)
    assert dropped == 3 and len(gaps) == 2 and gaps[0] == pytest.approx((0.18, 0.24))
    assert jitter == pytest.approx(0.0, abs=1e-6)
    assert frame_timing(t[:2]) == (0, (), None)


def test_damaged_at_with_margin() -> None:
    r = decode_report(np.arange(10) / 10, 10, damaged=(DamagedRange(0.3, 0.4, 2, "x"),))
    assert r.damaged_at(0.35) is r.damaged[0]
    assert r.damaged_at(0.45) is None and r.damaged_at(0.45, margin=0.06) is r.damaged[0]


# --------------------------------------------------------------------------- damage


def _flipped(tmp_path: Path, frac: float) -> Path:
    """A copy of the sample with 64 bytes flipped ``frac`` of the way into its frame data."""
    data = bytearray(SAMPLE.read_bytes())
    at = data.find(b"mdat") - 4
    size = int.from_bytes(data[at : at + 4], "big")
    pos = at + 8 + int(frac * (size - 8))
    for j in range(pos, pos + 64):
        data[j] ^= 0x5A
    out = tmp_path / f"flip_{int(100 * frac)}.mp4"
    out.write_bytes(bytes(data))
    return out


@pytest.fixture(scope="module")
def reference() -> dict[float, np.ndarray]:
    """The undamaged sample's frames by time."""
    frames, _ = _read(SAMPLE)
    return {f.t: f.image.astype(np.int16) for f in frames}


def _really_damaged(frames: list, reference: dict) -> list[float]:
    """Times of frames that decode differently from the undamaged file, or are missing."""
    got = {f.t: f.image.astype(np.int16) for f in frames}  # same pts, same float
    out = [t for t in reference if t not in got]
    out += [t for t, img in got.items() if np.abs(img - reference[t]).mean() > 0.5]
    return sorted(out)


@pytest.mark.parametrize(
    "frac",
    [
        0.2,  # the keyframe itself: every frame concealed
        0.5,  # an undecodable packet, then concealed frames
        0.4,
        0.8,
    ],
)
def test_flipped_bytes_damage_is_never_under_reported(tmp_path, reference, frac: float) -> None:
    frames, r = _read(_flipped(tmp_path, frac))
    assert r.undecodable or r.concealed
    assert r.frames + r.undecodable >= len(reference)  # lost frames are counted
    bad = _really_damaged(frames, reference)
    assert bad, "the flip changed nothing: pick another position"
    missed = [t for t in bad if r.damaged_at(t) is None]
    assert missed == [], f"damaged frames outside every reported range: {missed}"
    assert len(set(r.damaged)) == len(r.damaged)  # each range once
    assert r.warnings and all("\n" not in w for w in r.warnings)


def test_concealed_errors_damage_up_to_the_next_keyframe(tmp_path) -> None:
    _, r = _read(_flipped(tmp_path, 0.2))
    assert r.concealed == 1 and r.undecodable == 0
    (d,) = r.damaged
    assert d.cause == "concealed decoding errors" and d.frames == 221  # one keyframe only
    assert (d.start_s, d.end_s) == (0.0, pytest.approx(220 / 60))
    assert r.warnings == ("1 frame(s) decoded with concealed errors (damaged data)",)


# --------------------------------------------------------------------------- bad files


@pytest.mark.parametrize(
    "name,content,says",
    [
        ("missing.mp4", None, "no such file"),
        ("empty.mp4", b"", "file is empty"),
        ("notes.mp4", b"just some text\n" * 40, "a text file, not a video"),
        ("cut.mp4", "head", "index is missing or damaged"),
    ],
)
def test_probe_refuses_unusable_files_in_one_line(tmp_path, name, content, says) -> None:  # noqa: ANN001
    path = tmp_path / name
    if content == "head":
        content = SAMPLE.read_bytes()[:5000]
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(KmoError) as exc:
        probe(str(path))
    assert exc.value.code == ExitCode.BAD_INPUT and says in exc.value.message
    assert "\n" not in exc.value.message and exc.value.message.startswith(str(path))


def test_probe_refuses_a_directory_and_a_still_image(tmp_path) -> None:  # noqa: ANN001
    with pytest.raises(KmoError, match="is a directory"):
        probe(str(tmp_path))
    png = tmp_path / "still.mp4"
    png.write_bytes((SAMPLE.parents[1] / "tests/assets/front_sprite.png").read_bytes())
    with pytest.raises(KmoError, match="still image"):
        probe(str(png))
