"""The call's media: WebRTC peer connections (aiortc) on their own asyncio loop
and thread, and the thread-safe hand-over points between capture devices, the
engine and the screen. No Qt here: the Qt side (devices, the call service,
tiles) lives in ``conference_gui.services.media`` and the call feature.

Modules (import what you need; this package imports nothing, so reading
``exchange`` does not load aiortc):

* ``exchange`` — :class:`FrameSlot` (latest picture wins, with listeners),
  :class:`PcmRing`, :class:`LevelMeter`, :class:`ToneSource`: BGRA pictures,
  48 kHz mono int16 sound.
* ``engine`` — :class:`CallEngine` (the public API; its docstring gives the
  threading rules) and :class:`EngineListener`.
* ``ice`` — the one place loopback is allowed for ICE (:class:`IcePolicy`).
* ``peer`` — one ``RTCPeerConnection`` per pair and offer; ``tracks`` — the
  gated local tracks; ``receive`` — remote pictures, sound and the mix;
  ``jitter`` — frames leave the jitter buffer on their marker bit;
  ``stats`` — connection-quality snapshots; ``tasks`` — owned tasks.
"""
