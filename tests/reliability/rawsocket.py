"""A Socket.IO client by hand over a plain TCP socket, for attacks a real client cannot make:
a reader that stops reading (the kernel's buffers fill and the server's writes block),
and messages no JSON encoder would write (a 100,000-deep list).

Only what the tests need: the engine.io websocket handshake, text frames, the
``/video`` namespace connect, events with an ack id.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import struct
from typing import Any
from urllib.parse import urlsplit

NS = "/video"


class RawSocket:
    def __init__(self, url: str, token: str, *, rcvbuf: int | None = None,
                 timeout: float = 10.0) -> None:
        parts = urlsplit(url)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf is not None:  # before connect, so the window stays small
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect((parts.hostname or "127.0.0.1", parts.port or 80))
        key = base64.b64encode(os.urandom(16)).decode()
        request = (f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
                   f"Host: {parts.netloc}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n")
        self.sock.sendall(request.encode())
        self._buffer = b""
        head = self._read_until(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101"), head
        opened = self.recv_text()
        assert opened.startswith("0"), opened
        self.send_text(f"40{NS}," + json.dumps({"token": token}))
        connected = self.recv_text()
        assert connected.startswith(f"40{NS},"), connected
        self._ack_id = 0

    # --- frames ---------------------------------------------------------------
    def _read_exact(self, n: int) -> bytes:
        while len(self._buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed by the server")
            self._buffer += chunk
        data, self._buffer = self._buffer[:n], self._buffer[n:]
        return data

    def _read_until(self, marker: bytes) -> bytes:
        while marker not in self._buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed by the server")
            self._buffer += chunk
        head, _, self._buffer = self._buffer.partition(marker)
        return head

    def recv_text(self) -> str:
        """The next text message; answers engine.io pings on the way."""
        while True:
            first, second = self._read_exact(2)
            length = second & 0x7F
            if length == 126:
                length = struct.unpack(">H", self._read_exact(2))[0]
            elif length == 127:
                length = struct.unpack(">Q", self._read_exact(8))[0]
            payload = self._read_exact(length)
            opcode = first & 0x0F
            if opcode == 8:
                raise ConnectionError("closed by the server")
            if opcode != 1:
                continue
            text = payload.decode()
            if text == "2":  # engine.io ping
                self.send_text("3")
                continue
            return text

    def send_text(self, text: str) -> None:
        data = text.encode()
        header = bytes([0x81])
        if len(data) < 126:
            header += bytes([0x80 | len(data)])
        elif len(data) < 65536:
            header += bytes([0x80 | 126]) + struct.pack(">H", len(data))
        else:
            header += bytes([0x80 | 127]) + struct.pack(">Q", len(data))
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        self.sock.sendall(header + mask + masked)

    # --- Socket.IO ----------------------------------------------------------------
    def call_raw(self, event_and_args_json: str) -> Any:
        """Send ``42/video,<id><json>`` as given and return the ack's arguments."""
        self._ack_id += 1
        self.send_text(f"42{NS},{self._ack_id}{event_and_args_json}")
        prefix = f"43{NS},{self._ack_id}"
        while True:
            text = self.recv_text()
            if text.startswith(prefix):
                return json.loads(text[len(prefix):])

    def call(self, event: str, payload: Any) -> Any:
        return self.call_raw(json.dumps([event, payload]))[0]

    def close(self) -> None:
        self.sock.close()
