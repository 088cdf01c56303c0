"""Issue 15, findings 5-7: uploads that never finish, disk quotas, creating meetings
and guessing invites without end, leftovers of a crash."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from conference_gui.server import ServerConfig, ServerThread
from tests.conftest import Meeting

from .conftest import figure
from .procs import ServerProcess

KB = 1024


def slow_upload(url: str, session_id: str, token: str, size: int = 100_000) -> socket.socket:
    """Start a multipart upload by hand and send only its head: the body is to come."""
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=90)
    head = ("--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"slow.bin\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n")
    request = (f"POST /api/sessions/{session_id}/resources HTTP/1.1\r\nHost: {parts.netloc}\r\n"
               f"Authorization: Bearer {token}\r\n"
               "Content-Type: multipart/form-data; boundary=b\r\n"
               f"Content-Length: {len(head) + size + 8}\r\n\r\n{head}")
    sock.sendall(request.encode() + b"x" * 10)
    return sock


def closed_by_server(sock: socket.socket) -> bool:
    """True once the server answered and/or closed the connection."""
    sock.setblocking(False)
    try:
        sock.recv(65536)
    except BlockingIOError:
        return False
    except OSError:
        return True
    finally:
        sock.setblocking(True)
    return True  # an answer (408) or the end of the connection


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_an_upload_that_stops_coming_is_dropped(tmp_path: Path) -> None:
    """Finding 6 (slowloris): 300 uploads sending a byte every 10 s all stayed open
    (300 temp files, 600 descriptors). Goal: each is dropped within 60 s; at most 4 per
    person at once."""
    data = tmp_path / "data"
    srv = ServerThread(ServerConfig(port=0, data_dir=data))
    srv.start()
    try:
        meeting = Meeting(srv.url)
        people = [meeting.host, *(meeting.join(f"P{i}") for i in range(4))]
        started = time.monotonic()
        socks = [slow_upload(srv.url, meeting.session_id, p.token) for p in people
                 for _ in range(4)]
        time.sleep(0.5)
        assert len(list((data / "tmp").glob("*.part"))) == len(socks)
        fifth = requests.post(f"{srv.url}/api/sessions/{meeting.session_id}/resources",
                              files={"file": ("x.txt", b"x")},
                              headers={"Authorization": f"Bearer {people[0].token}"}, timeout=10)
        assert (fifth.status_code, fifth.json()["error"]["code"]) == (429, "too_many_uploads")
        open_socks = set(range(len(socks)))
        while open_socks and time.monotonic() - started < 60:
            for i in list(open_socks):
                try:
                    socks[i].send(b"x")  # a byte every ~5 s: far too slow
                except OSError:
                    open_socks.discard(i)
                    continue
                if closed_by_server(socks[i]):
                    open_socks.discard(i)
            time.sleep(5)
        dropped_after = time.monotonic() - started
        figure("slowloris_uploads_dropped_after_s", round(dropped_after, 1))
        assert not open_socks, f"{len(open_socks)} slow uploads still open after 60 s"
        time.sleep(0.5)
        assert list((data / "tmp").glob("*.part")) == []
        ok = requests.post(f"{srv.url}/api/sessions/{meeting.session_id}/resources",
                           files={"file": ("x.txt", b"x")},
                           headers={"Authorization": f"Bearer {people[0].token}"}, timeout=10)
        assert ok.status_code == 201
        for sock in socks:
            sock.close()
    finally:
        srv.stop()


def test_disk_quotas_per_meeting_and_in_total(tmp_path: Path) -> None:
    """Finding 7: 300 x 1 MiB uploads in 1.4 s, no per-meeting or total limit."""
    data = tmp_path / "data"
    srv = ServerThread(ServerConfig(port=0, data_dir=data, max_upload_mb=1,
                                    meeting_quota_mb=1.0, disk_quota_mb=1.5))
    srv.start()
    try:
        blob = b"x" * (600 * KB)

        def upload(m: Meeting, body: bytes = blob) -> requests.Response:
            return requests.post(f"{srv.url}/api/sessions/{m.session_id}/resources",
                                 files={"file": ("a.bin", body)},
                                 headers={"Authorization": f"Bearer {m.host.token}"}, timeout=10)

        one, two, three = Meeting(srv.url), Meeting(srv.url), Meeting(srv.url)
        first = upload(one)
        assert first.status_code == 201
        full = upload(one)
        assert (full.status_code, full.json()["error"]["code"]) == (413, "quota_exceeded")
        assert "delete" in full.json()["error"]["message"]
        assert upload(two).status_code == 201  # 1.2 MB of 1.5 in total
        disk = upload(three)
        assert (disk.status_code, disk.json()["error"]["code"]) == (507, "insufficient_storage")
        assert upload(three, b"y" * (200 * KB)).status_code == 201  # what fits still goes
        rid = first.json()["resource"]["id"]
        requests.delete(f"{srv.url}/api/sessions/{one.session_id}/resources/{rid}",
                        headers={"Authorization": f"Bearer {one.host.token}"}, timeout=10)
        assert upload(one, b"z" * (200 * KB)).status_code == 201  # room again
        assert list((data / "tmp").glob("*.part")) == []
        assert len(list((data / "files").iterdir())) == 3
    finally:
        srv.stop()


def test_creating_meetings_and_guessing_invites_are_rate_limited(tmp_path: Path) -> None:
    """Finding 7: 2,227 meetings/s filled the database; 5,188 invite guesses/s."""
    srv = ServerThread(ServerConfig(port=0, data_dir=tmp_path / "data"))
    srv.start()
    try:
        with requests.Session() as http:
            created = [http.post(f"{srv.url}/api/sessions", json={"title": "T", "name": "N"},
                                 timeout=10) for _ in range(30)]
            codes = [r.status_code for r in created]
            assert codes.count(201) == 10 and codes.count(429) == 20
            refused = created[-1]
            assert refused.json()["error"]["code"] == "rate_limited"
            assert int(refused.headers["Retry-After"]) >= 1
            real = created[0].json()
            sid = real["session"]["id"]
            guesses = [http.post(f"{srv.url}/api/sessions/{sid}/join",
                                 json={"name": "Eve", "invite": f"guess{i}"}, timeout=10)
                       for i in range(30)]
            codes = [r.status_code for r in guesses]
            figure("invite_guesses_answered_before_the_limit", codes.count(403))
            assert codes.count(403) == 10 and codes.count(429) == 20
            # While guessing is blocked, even the right code waits: guesses learn nothing.
            right = http.post(f"{srv.url}/api/sessions/{sid}/join",
                              json={"name": "Eve", "invite": real["invite"]}, timeout=10)
            assert right.status_code == 429
    finally:
        srv.stop()


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_no_orphan_or_temp_file_survives_a_kill_and_restart(
    tmp_path: Path, server_processes: list[ServerProcess]
) -> None:
    """Finding 5: kill -9 during uploads and deletes left an orphan file (no row) that
    survived restarts, and 22 tmp/*.part files (swept only after an hour)."""
    data = tmp_path / "data"
    proc = ServerProcess(data)
    server_processes.append(proc)
    meeting = Meeting(proc.url)
    auth = {"Authorization": f"Bearer {meeting.host.token}"}
    kept = [meeting.upload(meeting.host, f"kept{i}.txt", b"kept")["resource"]["id"]
            for i in range(3)]
    slow = [slow_upload(proc.url, meeting.session_id, meeting.host.token) for _ in range(4)]
    time.sleep(0.5)
    assert len(list((data / "tmp").glob("*.part"))) == 4
    # The window a kill can hit: bytes renamed into files/, row not yet committed (or a
    # row deleted, bytes not yet). Made by hand here, as a kill at that instant leaves it.
    (data / "files" / ("ab" * 12)).write_bytes(b"orphan")
    proc.proc.kill()
    proc.proc.wait(10)
    for sock in slow:
        sock.close()
    restarted = ServerProcess(data, port=proc.port)
    server_processes.append(restarted)
    assert list((data / "tmp").glob("*.part")) == []
    assert sorted(p.name for p in (data / "files").iterdir()) == sorted(kept)
    listed = requests.get(f"{restarted.url}/api/sessions/{meeting.session_id}/resources",
                          headers=auth, timeout=10).json()
    assert sorted(r["id"] for r in listed["resources"]) == sorted(kept)
    assert "swept 4 unfinished upload(s) and 1 orphan file(s)" in restarted.log_text()
