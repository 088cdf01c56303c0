"""Camera pictures (``QVideoFrame``) → the call's BGRA ``VideoImage``.

Runs on the device thread, once per captured frame, so it must be cheap and
must not need a GPU: ``QVideoFrame.toImage()`` first tries to create a GPU
context (RHI) on the calling thread and warns when there is none. Instead the
frame is mapped and its planes handed to swscale (through PyAV, which the
engine needs anyway), which converts the YUV layouts cameras deliver (NV12,
YUV 4:2:0 and 4:2:2, YUYV, UYVY) with the frame's colour range; 32-bit RGB
layouts are only reordered; JPEG frames (MJPEG cameras) are decoded by
``QImage``. Anything else falls back to ``toImage()``.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from av.video.frame import VideoFrame
from PySide6.QtGui import QImage
from PySide6.QtMultimedia import QVideoFrame, QVideoFrameFormat

from conference_gui.media.exchange import VideoImage

PF = QVideoFrameFormat.PixelFormat

# 32-bit layouts: which source byte goes to B, G, R, A; and whether the 4th byte is padding.
_RGB32: dict[PF, tuple[tuple[int, int, int, int], bool]] = {
    PF.Format_BGRA8888: ((0, 1, 2, 3), False),
    PF.Format_BGRA8888_Premultiplied: ((0, 1, 2, 3), False),
    PF.Format_BGRX8888: ((0, 1, 2, 3), True),
    PF.Format_ARGB8888: ((3, 2, 1, 0), False),
    PF.Format_ARGB8888_Premultiplied: ((3, 2, 1, 0), False),
    PF.Format_XRGB8888: ((3, 2, 1, 0), True),
    PF.Format_RGBA8888: ((2, 1, 0, 3), False),
    PF.Format_RGBX8888: ((2, 1, 0, 3), True),
    PF.Format_ABGR8888: ((1, 2, 3, 0), False),
    PF.Format_XBGR8888: ((1, 2, 3, 0), True),
}

_YUV = {
    PF.Format_YUV420P,
    PF.Format_YV12,
    PF.Format_NV12,
    PF.Format_NV21,
    PF.Format_YUV422P,
    PF.Format_YUYV,
    PF.Format_UYVY,
    PF.Format_Y8,
}

U8 = npt.NDArray[np.uint8]


def convertible_natively(pixel_format: PF) -> bool:
    """True if frames of this format are converted without ``QVideoFrame.toImage()``."""
    return pixel_format in _RGB32 or pixel_format in _YUV or pixel_format == PF.Format_Jpeg


def video_frame_to_image(frame: QVideoFrame, captured: float) -> VideoImage | None:
    """One BGRA copy of ``frame`` (``None`` for an empty or unmappable frame)."""
    if not frame.isValid():
        return None
    pf = frame.pixelFormat()
    pixels: U8 | None
    if pf in _RGB32 or pf in _YUV:
        if not frame.map(QVideoFrame.MapMode.ReadOnly):
            return None
        try:
            pixels = _rgb32(frame, pf) if pf in _RGB32 else _yuv(frame, pf)
        finally:
            frame.unmap()
    elif pf == PF.Format_Jpeg:
        pixels = _jpeg(frame)
    else:
        pixels = qimage_to_bgra(frame.toImage())
    return None if pixels is None else VideoImage(pixels, captured)


def qimage_to_bgra(image: QImage) -> U8 | None:
    """A C-contiguous ``(h, w, 4)`` BGRA copy of ``image`` (``Format_RGB32`` memory layout)."""
    if image.isNull():
        return None
    if image.format() not in (QImage.Format.Format_RGB32, QImage.Format.Format_ARGB32):
        image = image.convertToFormat(QImage.Format.Format_RGB32)
    h, w, bpl = image.height(), image.width(), image.bytesPerLine()
    rows = np.frombuffer(image.constBits(), dtype=np.uint8, count=h * bpl).reshape(h, bpl)
    # A copy, always: the rows are the image's own memory, gone with the image.
    return rows[:, : w * 4].reshape(h, w, 4).copy()


def _plane(frame: QVideoFrame, index: int, rows: int, row_bytes: int) -> U8:
    """Plane ``index`` as ``(rows, row_bytes)`` without its line padding.

    A *view* of the mapped frame: valid only until ``unmap()``; copy what is kept.
    """
    bpl = frame.bytesPerLine(index)
    data = np.frombuffer(frame.bits(index), dtype=np.uint8, count=frame.mappedBytes(index))
    return data[: rows * bpl].reshape(rows, bpl)[:, :row_bytes]


def _rgb32(frame: QVideoFrame, pf: PF) -> U8:
    w, h = frame.width(), frame.height()
    order, padded = _RGB32[pf]
    src = _plane(frame, 0, h, w * 4).reshape(h, w, 4)
    # A copy, always: the plane is the frame's mapped memory, gone after unmap().
    out = src.copy() if order == (0, 1, 2, 3) else src[:, :, list(order)]
    if padded:
        out[:, :, 3] = 255
    return out


def _yuv(frame: QVideoFrame, pf: PF) -> U8:
    w, h = frame.width() & ~1, frame.height() & ~1  # 4:2:x needs even sizes
    if pf in (PF.Format_YUV420P, PF.Format_YV12):
        y = _plane(frame, 0, h, w)
        u = _plane(frame, 1, h // 2, w // 2)
        v = _plane(frame, 2, h // 2, w // 2)
        if pf == PF.Format_YV12:
            u, v = v, u
        packed = np.concatenate((y.reshape(-1), u.reshape(-1), v.reshape(-1)))
        av_frame = VideoFrame.from_ndarray(packed.reshape(h * 3 // 2, w), format="yuv420p")
    elif pf == PF.Format_YUV422P:
        y = _plane(frame, 0, h, w)
        u = _plane(frame, 1, h, w // 2)
        v = _plane(frame, 2, h, w // 2)
        packed = np.concatenate((y.reshape(-1), u.reshape(-1), v.reshape(-1)))
        av_frame = VideoFrame.from_ndarray(packed.reshape(h * 2, w), format="yuv422p")
    elif pf in (PF.Format_NV12, PF.Format_NV21):
        y = _plane(frame, 0, h, w)
        uv = _plane(frame, 1, h // 2, w)
        if pf == PF.Format_NV21:
            uv = uv.reshape(h // 2, w // 2, 2)[:, :, ::-1].reshape(h // 2, w)
        packed = np.concatenate((y.reshape(-1), uv.reshape(-1)))
        av_frame = VideoFrame.from_ndarray(packed.reshape(h * 3 // 2, w), format="nv12")
    elif pf in (PF.Format_YUYV, PF.Format_UYVY):
        packed = _plane(frame, 0, h, w * 2).reshape(h, w // 2, 4)
        if pf == PF.Format_UYVY:  # U Y0 V Y1 -> Y0 U Y1 V
            packed = packed[:, :, [1, 0, 3, 2]]
        av_frame = VideoFrame.from_ndarray(
            np.ascontiguousarray(packed).reshape(h, w, 2), format="yuyv422"
        )
    else:  # Y8: grey
        av_frame = VideoFrame.from_ndarray(np.ascontiguousarray(_plane(frame, 0, h, w)), "gray")
    fmt = frame.surfaceFormat()
    full = fmt.colorRange() == QVideoFrameFormat.ColorRange.ColorRange_Full
    hd = fmt.colorSpace() == QVideoFrameFormat.ColorSpace.ColorSpace_BT709
    bgra = av_frame.reformat(
        format="bgra",
        src_colorspace="itu709" if hd else "itu601",
        src_color_range="JPEG" if full else "MPEG",
        threads=1,
    )
    return np.ascontiguousarray(bgra.to_ndarray())


def _jpeg(frame: QVideoFrame) -> U8 | None:
    if not frame.map(QVideoFrame.MapMode.ReadOnly):
        return None
    try:
        data = bytes(frame.bits(0)[: frame.mappedBytes(0)])
    finally:
        frame.unmap()
    return qimage_to_bgra(QImage.fromData(data))
