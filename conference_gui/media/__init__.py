"""The call's media: WebRTC peer connections (aiortc) on their own asyncio loop
and thread, and the thread-safe hand-over points between capture devices, the
engine and the screen. No Qt here: the Qt side (devices, the call service,
tiles) lives in ``conference_gui.services.media`` and the call feature.
"""
