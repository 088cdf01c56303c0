"""Camera pictures → BGRA: real QVideoFrames in the layouts cameras deliver.

No camera is needed to make a ``QVideoFrame``: the frames here are Qt's own,
allocated by Qt (with its line padding) and filled through ``map()``, exactly
as a camera backend fills them. Only the camera itself is missing.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QSize
from PySide6.QtGui import QColor, QImage
from PySide6.QtMultimedia import QVideoFrame, QVideoFrameFormat

from conference_gui.services.media.camera import CameraMode, camera_problem, choose_mode
from conference_gui.services.media.device_handle import DeviceState
from conference_gui.services.media.video_frames import (
    convertible_natively,
    qimage_to_bgra,
    video_frame_to_image,
)

PF = QVideoFrameFormat.PixelFormat
W, H = 102, 50  # not a multiple of 16: Qt pads every line, which the conversion must skip

# BT.601, video range: red and blue as Y, U (Cb), V (Cr).
RED_YUV = (81, 90, 240)
BLUE_YUV = (41, 240, 110)
RED_BGRA = (0, 0, 255, 255)
BLUE_BGRA = (255, 0, 0, 255)


def make_frame(
    pf: PF,
    fill: Callable[[QVideoFrame], None],
    color_range: QVideoFrameFormat.ColorRange | None = None,
) -> QVideoFrame:
    fmt = QVideoFrameFormat(QSize(W, H), pf)
    if color_range is not None:
        fmt.setColorRange(color_range)
    frame = QVideoFrame(fmt)
    assert frame.map(QVideoFrame.MapMode.WriteOnly)
    try:
        fill(frame)
    finally:
        frame.unmap()
    return frame


def plane(frame: QVideoFrame, index: int) -> np.ndarray:
    """Plane ``index`` as rows of ``bytesPerLine`` (padding included), writable."""
    data = np.frombuffer(frame.bits(index), dtype=np.uint8, count=frame.mappedBytes(index))
    bpl = frame.bytesPerLine(index)
    return data[: data.size - data.size % bpl].reshape(-1, bpl)


def split_colours(pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean BGRA of the left (red) and right (blue) halves, away from the seam."""
    return pixels[:, : W // 2 - 4].reshape(-1, 4).mean(axis=0), pixels[:, W // 2 + 4 :].reshape(
        -1, 4
    ).mean(axis=0)


def fill_planar(frame: QVideoFrame, chroma_rows: int, u_plane: int, v_plane: int) -> None:
    y, u, v = plane(frame, 0), plane(frame, u_plane), plane(frame, v_plane)
    half = W // 2
    y[:H, :half], y[:H, half:W] = RED_YUV[0], BLUE_YUV[0]
    cw = half // 2 + 1 if half % 2 else half // 2
    for p, red, blue in ((u, RED_YUV[1], BLUE_YUV[1]), (v, RED_YUV[2], BLUE_YUV[2])):
        p[:chroma_rows, :cw], p[:chroma_rows, cw : W // 2] = red, blue


def fill_nv(frame: QVideoFrame, v_first: bool) -> None:
    y, uv = plane(frame, 0), plane(frame, 1)
    half = W // 2
    y[:H, :half], y[:H, half:W] = RED_YUV[0], BLUE_YUV[0]
    for col in range(0, W, 2):
        _, u, v = RED_YUV if col < half else BLUE_YUV
        uv[: H // 2, col], uv[: H // 2, col + 1] = (v, u) if v_first else (u, v)


def fill_packed(frame: QVideoFrame, order: str) -> None:
    rows = plane(frame, 0)
    for col in range(0, W, 2):
        y, u, v = RED_YUV if col < W // 2 else BLUE_YUV
        values = {"Y": y, "U": u, "V": v}
        for i, name in enumerate(order):
            rows[:H, col * 2 + i] = values[name]


CASES: dict[str, tuple[PF, Callable[[QVideoFrame], None]]] = {
    "YUV420P": (PF.Format_YUV420P, lambda f: fill_planar(f, H // 2, 1, 2)),
    "YV12": (PF.Format_YV12, lambda f: fill_planar(f, H // 2, 2, 1)),
    "YUV422P": (PF.Format_YUV422P, lambda f: fill_planar(f, H, 1, 2)),
    "NV12": (PF.Format_NV12, lambda f: fill_nv(f, v_first=False)),
    "NV21": (PF.Format_NV21, lambda f: fill_nv(f, v_first=True)),
    "YUYV": (PF.Format_YUYV, lambda f: fill_packed(f, "YUYV")),
    "UYVY": (PF.Format_UYVY, lambda f: fill_packed(f, "UYVY")),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_camera_yuv_layouts_become_the_right_colours(name: str) -> None:
    pf, fill = CASES[name]
    assert convertible_natively(pf)
    image = video_frame_to_image(make_frame(pf, fill), captured=12.5)
    assert image is not None
    assert image.captured == 12.5
    assert image.pixels.dtype == np.uint8 and image.pixels.flags.c_contiguous
    assert (image.width, image.height) == (W & ~1, H)
    left, right = split_colours(image.pixels)
    assert left == pytest.approx(RED_BGRA, abs=6)
    assert right == pytest.approx(BLUE_BGRA, abs=6)


def test_full_range_frames_keep_their_levels() -> None:
    def grey(frame: QVideoFrame) -> None:
        plane(frame, 0)[:] = 200
        plane(frame, 1)[:] = 128

    video = video_frame_to_image(make_frame(PF.Format_NV12, grey), 0.0)
    full = video_frame_to_image(
        make_frame(PF.Format_NV12, grey, QVideoFrameFormat.ColorRange.ColorRange_Full), 0.0
    )
    assert video is not None and full is not None
    # Video range stretches 16..235 to 0..255; full range is taken as it is.
    assert video.pixels[0, 0, :3] == pytest.approx([(200 - 16) * 255 / 219] * 3, abs=2)
    assert full.pixels[0, 0, :3] == pytest.approx([200] * 3, abs=2)


def test_a_frame_made_from_a_qimage_is_copied_exactly() -> None:
    source = QImage(W, H, QImage.Format.Format_RGB32)
    source.fill(QColor(10, 20, 200))
    source.setPixelColor(3, 4, QColor(250, 128, 1))
    frame = QVideoFrame(source)
    assert frame.pixelFormat() == PF.Format_BGRX8888
    image = video_frame_to_image(frame, 1.0)
    assert image is not None
    assert image.pixels.shape == (H, W, 4)
    assert tuple(image.pixels[0, 0]) == (200, 20, 10, 255)
    assert tuple(image.pixels[4, 3]) == (1, 128, 250, 255)


@pytest.mark.parametrize(
    ("pf", "order"),
    [
        (PF.Format_RGBA8888, "RGBA"),
        (PF.Format_ARGB8888, "ARGB"),
        (PF.Format_XBGR8888, "XBGR"),
        (PF.Format_BGRA8888, "BGRA"),
    ],
)
def test_32_bit_rgb_layouts_are_reordered(pf: PF, order: str) -> None:
    colour = {"R": 250, "G": 128, "B": 1, "A": 255, "X": 0}

    def fill(frame: QVideoFrame) -> None:
        rows = plane(frame, 0)
        for i, channel in enumerate(order):
            rows[:H, i : W * 4 : 4] = colour[channel]

    image = video_frame_to_image(make_frame(pf, fill), 0.0)
    assert image is not None
    assert tuple(image.pixels[H // 2, W // 2]) == (1, 128, 250, 255)


def test_jpeg_frames_from_mjpeg_cameras_are_decoded() -> None:
    picture = QImage(W, H, QImage.Format.Format_RGB32)
    picture.fill(QColor(0, 200, 0))
    encoded = QByteArray()
    buffer = QBuffer(encoded)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    assert picture.save(buffer, "JPG", 95)
    data = encoded.data()

    def fill(frame: QVideoFrame) -> None:
        target = np.frombuffer(frame.bits(0), dtype=np.uint8, count=frame.mappedBytes(0))
        target[: len(data)] = np.frombuffer(data, dtype=np.uint8)

    image = video_frame_to_image(make_frame(PF.Format_Jpeg, fill), 0.0)
    assert image is not None
    assert image.pixels.shape == (H, W, 4)
    assert image.pixels[H // 2, W // 2] == pytest.approx((0, 200, 0, 255), abs=4)


def test_an_empty_frame_gives_no_picture() -> None:
    assert video_frame_to_image(QVideoFrame(), 0.0) is None
    assert qimage_to_bgra(QImage()) is None


def test_other_qimage_formats_are_converted() -> None:
    rgb = QImage(4, 2, QImage.Format.Format_RGB888)
    rgb.fill(QColor(9, 8, 7))
    pixels = qimage_to_bgra(rgb)
    assert pixels is not None and pixels.shape == (2, 4, 4)
    assert tuple(pixels[1, 3]) == (7, 8, 9, 255)


def mode(w: int, h: int, fps: float, *, native: bool = True, jpeg: bool = False) -> CameraMode:
    return CameraMode(w, h, min(fps, 5.0), fps, native, jpeg)


def test_the_camera_format_nearest_640x480_at_30fps_is_chosen() -> None:
    modes = [
        mode(1920, 1080, 30),
        mode(640, 480, 15),
        mode(1280, 720, 30, jpeg=True),
        mode(640, 480, 30, jpeg=True),
        mode(640, 480, 30),
        mode(320, 240, 30),
    ]
    assert choose_mode(modes) == 4  # 640×480 @ 30, uncompressed
    assert choose_mode(modes[:4]) == 3  # 640×480 @ 30 even as JPEG, before 720p
    assert choose_mode([mode(1920, 1080, 30), mode(1280, 720, 30)]) == 1
    assert choose_mode([mode(640, 480, 10), mode(1280, 720, 30)]) == 1  # 30 fps first
    assert choose_mode([mode(640, 480, 30, native=False), mode(800, 600, 30)]) == 1
    assert choose_mode([mode(320, 240, 30), mode(1920, 1080, 30)]) == 1  # bigger is better
    assert choose_mode([]) is None


@pytest.mark.parametrize(
    ("message", "state", "sentence"),
    [
        ("No camera detected", DeviceState.NO_DEVICE, "No camera found"),
        ("Camera is in use", DeviceState.BUSY, "The camera is in use by another program"),
        ("Device or resource busy", DeviceState.BUSY, "The camera is in use by another program"),
        (
            "Access to camera not granted",
            DeviceState.DENIED,
            "Permission to use the camera was denied",
        ),
        ("Permission denied", DeviceState.DENIED, "Permission to use the camera was denied"),
        (
            "Couldn't start v4l2 camera stream",
            DeviceState.FAILED,
            "The camera could not be started (Couldn't start v4l2 camera stream)",
        ),
    ],
)
def test_camera_errors_become_clear_sentences(
    message: str, state: DeviceState, sentence: str
) -> None:
    assert camera_problem(message, "/dev/video0-not-there") == (state, sentence)
