"""REST resources: upload (streamed), list with revision, download, delete."""

from __future__ import annotations

import concurrent.futures
import re
import socket
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import requests

from .conftest import MAX_UPLOAD_MB
from .support import TIMEOUT, Api, Member, error_of, files_in, wait_until

LIMIT = MAX_UPLOAD_MB * 1024 * 1024


def _assert_nothing_stored(api: Api, member: Member, data_dir: Path) -> None:
    assert api.listed(member) == {"revision": 0, "resources": []}
    assert files_in(data_dir / "files") == []
    wait_until(lambda: files_in(data_dir / "tmp") == [], what="temp files removed")


def test_upload_list_download_round_trip(api: Api, data_dir: Path) -> None:
    host = api.create(name="Ann")
    payload = bytes(range(256)) * 1000
    r = api.upload(host, "slides.pdf", payload, "application/pdf")
    assert r.status_code == 201
    body = r.json()
    assert body["revision"] == 1
    resource = body["resource"]
    assert set(resource) == {"id", "sessionId", "name", "size", "contentType", "uploadedBy",
                             "uploadedAt"}
    assert resource["sessionId"] == host.session_id
    assert (resource["name"], resource["size"], resource["contentType"]) == (
        "slides.pdf", len(payload), "application/pdf")
    assert resource["uploadedBy"] == {"id": host.user_id, "name": "Ann"}
    assert resource["uploadedAt"].endswith("Z")
    datetime.fromisoformat(resource["uploadedAt"].replace("Z", "+00:00"))

    assert api.listed(host) == {"revision": 1, "resources": [resource]}
    assert files_in(data_dir / "files") == [resource["id"]]
    assert files_in(data_dir / "tmp") == []

    got = api.download(host, resource["id"])
    assert got.status_code == 200
    assert got.content == payload
    assert got.headers["Content-Type"] == "application/pdf"
    assert got.headers["Content-Disposition"].startswith("attachment;")
    assert got.headers["X-Content-Type-Options"] == "nosniff"


def test_list_is_newest_first_and_revisions_count_every_change(api: Api) -> None:
    host = api.create()
    guest = api.join(host)
    ids = [api.upload_ok(who, f"{i}.txt")["resource"]["id"]
           for i, who in enumerate([host, guest, host])]
    listed = api.listed(guest)
    assert listed["revision"] == 3
    assert [r["id"] for r in listed["resources"]] == ids[::-1]
    assert api.delete(host, ids[1]).json() == {"revision": 4}
    assert api.upload_ok(guest)["revision"] == 5
    assert api.listed(host)["revision"] == 5


def test_content_type_from_part_then_guess_then_generic(api: Api) -> None:
    host = api.create()
    declared = api.upload_ok(host, "data.bin", b"x", "text/csv; charset=utf-8")["resource"]
    assert declared["contentType"] == "text/csv; charset=utf-8"
    guessed = api.upload_ok(host, "photo.png", b"x")["resource"]
    assert guessed["contentType"] == "image/png"
    generic_but_known = api.upload_ok(host, "page.html", b"x",
                                      "application/octet-stream")["resource"]
    assert generic_but_known["contentType"] == "text/html"
    unknown = api.upload_ok(host, "blob.zzqq", b"x")["resource"]
    assert unknown["contentType"] == "application/octet-stream"
    garbage = api.upload_ok(host, "a.zzqq", b"x", "not a type")["resource"]
    assert garbage["contentType"] == "application/octet-stream"


def test_delete_permissions(api: Api, data_dir: Path) -> None:
    host = api.create()
    bob, eve = api.join(host, "Bob"), api.join(host, "Eve")
    bobs = api.upload_ok(bob, "bob.txt")["resource"]["id"]
    hosts = api.upload_ok(host, "host.txt")["resource"]["id"]

    assert error_of(api.delete(eve, bobs)) == (403, "forbidden")
    assert error_of(api.delete(bob, hosts)) == (403, "forbidden")
    assert api.listed(host)["revision"] == 2  # refusals change nothing

    assert api.delete(bob, bobs).json() == {"revision": 3}
    assert api.delete(host, hosts).json() == {"revision": 4}
    assert files_in(data_dir / "files") == []

    eves = api.upload_ok(eve)["resource"]["id"]
    r = api.delete(host, eves)  # the host may delete anyone's
    assert (r.status_code, r.json()) == (200, {"revision": 6})


def test_missing_bytes_are_a_json_404(api: Api, data_dir: Path) -> None:
    host = api.create()
    rid = api.upload_ok(host)["resource"]["id"]
    (data_dir / "files" / rid).unlink()
    assert error_of(api.download(host, rid)) == (404, "not_found")
    assert api.delete(host, rid).status_code == 200  # and it can still be cleaned up


def test_unknown_resources_are_404(api: Api) -> None:
    host = api.create()
    rid = api.upload_ok(host)["resource"]["id"]
    assert error_of(api.delete(host, "0123456789abcdef01234567")) == (404, "not_found")
    assert error_of(api.download(host, "nope")) == (404, "not_found")
    assert api.delete(host, rid).status_code == 200
    assert error_of(api.delete(host, rid)) == (404, "not_found")
    assert error_of(api.download(host, rid)) == (404, "not_found")
    assert api.listed(host)["revision"] == 2


@pytest.mark.parametrize(("raw", "shown"), [
    ("../../etc/passwd", "passwd"),
    ("..\\x", "x"),
    ("C:\\Users\\ann\\report.docx", "report.docx"),
    ("/abs/path/", "path"),
    ("..", "file"),
    ("...hidden", "hidden"),
    ("  .bashrc", "bashrc"),
    ("a\nb\tc\r.txt", "abc.txt"),
    ("evil\u202egpj.exe", "evilgpj.exe"),
    ("Résumé 日本語 🎉.pdf", "Résumé 日本語 🎉.pdf"),
    ("trailing dots...", "trailing dots"),
])
def test_visible_names_are_cleaned_but_bytes_live_under_the_id(
    api: Api, data_dir: Path, raw: str, shown: str
) -> None:
    host = api.create()
    resource = api.upload_ok(host, raw, b"payload")["resource"]
    assert resource["name"] == shown
    assert files_in(data_dir / "files") == [resource["id"]]
    assert not (data_dir.parent / "etc").exists()


def test_long_names_are_capped_keeping_the_extension(api: Api) -> None:
    host = api.create()
    name = api.upload_ok(host, "n" * 1000 + ".tar.gz")["resource"]["name"]
    assert len(name) == 255 and name.endswith("n.gz")
    no_ext = api.upload_ok(host, "é" * 1000)["resource"]["name"]
    assert no_ext == "é" * 255


def _disposition_filename(header: str) -> tuple[str, str]:
    """``(filename, decoded filename*)`` of a Content-Disposition header."""
    assert header.startswith("attachment;")
    params = dict(re.findall(r';\s*([^=\s]+)=("[^"]*"|[^;]*)', header))
    plain = params["filename"].strip('"')
    charset, _, encoded = params["filename*"].partition("''")
    assert charset == "UTF-8"
    return plain, unquote(encoded, encoding="utf-8", errors="strict")


@pytest.mark.parametrize("name", [
    "Résumé 日本語 \"quoted\"; name=x.pdf",
    "plain.txt",
    "100% done, 'ok'.txt",
    "日本語.pdf",
])
def test_non_ascii_names_survive_content_disposition(api: Api, name: str) -> None:
    host = api.create()
    resource = api.upload_ok(host, name, b"x")["resource"]
    header = api.download(host, resource["id"]).headers["Content-Disposition"]
    assert header.isascii()
    plain, decoded = _disposition_filename(header)
    assert decoded == name
    assert plain.isascii() and '"' not in plain and "\\" not in plain
    assert plain.rsplit(".", 1)[-1] == name.rsplit(".", 1)[-1]


def _raw_upload(api: Api, who: Member, disposition: bytes, data: bytes = b"x"
                ) -> requests.Response:
    boundary = "rawBOUNDARYraw"
    body = (f"--{boundary}\r\n".encode() + b"Content-Disposition: " + disposition
            + b"\r\n\r\n" + data + f"\r\n--{boundary}--\r\n".encode())
    return requests.post(api.sessions_url(who.session_id, "/resources"), data=body, headers={
        **who.auth, "Content-Type": f"multipart/form-data; boundary={boundary}"},
        timeout=TIMEOUT)


def test_control_characters_in_encoded_names_are_stripped(api: Api) -> None:
    host = api.create()
    r = _raw_upload(api, host, b"form-data; name=\"file\"; "
                    b"filename*=UTF-8''a%00b%07c%1B%7F%E2%80%AEd.txt")
    assert r.status_code == 201, r.text
    assert r.json()["resource"]["name"] == "abcd.txt"
    r = _raw_upload(api, host, b'form-data; name="file"; filename="C:\\Users\\x\\y.txt"')
    assert r.json()["resource"]["name"] == "y.txt"


def test_raw_control_bytes_in_part_headers_are_a_bad_request(api: Api, data_dir: Path) -> None:
    host = api.create()
    r = _raw_upload(api, host, b'form-data; name="file"; filename="a\x00b.txt"')
    assert error_of(r) == (400, "bad_request")
    _assert_nothing_stored(api, host, data_dir)


def test_empty_files_are_refused(api: Api, data_dir: Path) -> None:
    host = api.create()
    assert error_of(api.upload(host, "empty.txt", b"")) == (422, "empty_file")
    _assert_nothing_stored(api, host, data_dir)


def test_upload_needs_multipart_with_one_file_field(api: Api, data_dir: Path) -> None:
    host = api.create()
    url = api.sessions_url(host.session_id, "/resources")
    as_json = requests.post(url, json={"file": "x"}, headers=host.auth, timeout=TIMEOUT)
    assert error_of(as_json) == (415, "unsupported_media_type")
    raw = requests.post(url, data=b"abc", headers={**host.auth, "Content-Type":
                                                   "application/octet-stream"}, timeout=TIMEOUT)
    assert error_of(raw) == (415, "unsupported_media_type")
    wrong_field = requests.post(url, files={"upload": ("a.txt", b"x")}, headers=host.auth,
                                timeout=TIMEOUT)
    assert error_of(wrong_field) == (422, "invalid")
    two = requests.post(url, files=[("file", ("a.txt", b"a")), ("file", ("b.txt", b"b"))],
                        headers=host.auth, timeout=TIMEOUT)
    assert error_of(two) == (422, "invalid")
    no_boundary = requests.post(url, data=b"x", headers={
        **host.auth, "Content-Type": "multipart/form-data"}, timeout=TIMEOUT)
    assert error_of(no_boundary)[0] == 400
    _assert_nothing_stored(api, host, data_dir)


def test_other_form_fields_are_ignored(api: Api) -> None:
    host = api.create()
    r = requests.post(api.sessions_url(host.session_id, "/resources"),
                      data={"comment": "hi"}, files={"file": ("a.txt", b"abc")},
                      headers=host.auth, timeout=TIMEOUT)
    assert r.status_code == 201 and r.json()["resource"]["size"] == 3


def test_exactly_the_limit_is_accepted(api: Api) -> None:
    host = api.create()
    assert api.upload_ok(host, "max.bin", b"m" * LIMIT)["resource"]["size"] == LIMIT


def test_declared_oversize_is_refused_before_reading(api: Api, data_dir: Path) -> None:
    host = api.create()
    started = time.monotonic()
    r = api.upload(host, "big.bin", b"b" * (LIMIT * 3))
    assert error_of(r) == (413, "too_large")
    assert time.monotonic() - started < 5
    _assert_nothing_stored(api, host, data_dir)


def test_counted_oversize_within_the_multipart_allowance(api: Api, data_dir: Path) -> None:
    """Content-Length passes the early check (overhead allowance); counting catches it."""
    host = api.create()
    assert error_of(api.upload(host, "big.bin", b"b" * (LIMIT + 1))) == (413, "too_large")
    _assert_nothing_stored(api, host, data_dir)


def _chunked_multipart(boundary: str, size: int) -> Iterator[bytes]:
    yield (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
           f"filename=\"big.bin\"\r\n\r\n").encode()
    sent = 0
    while sent < size:
        n = min(64 * 1024, size - sent)
        yield b"c" * n
        sent += n
    yield f"\r\n--{boundary}--\r\n".encode()


def test_chunked_upload_without_length_is_counted(api: Api, data_dir: Path) -> None:
    host = api.create()
    boundary = "xyzBOUNDARYzyx"
    headers = {**host.auth, "Content-Type": f"multipart/form-data; boundary={boundary}"}
    url = api.sessions_url(host.session_id, "/resources")
    ok = requests.post(url, data=_chunked_multipart(boundary, 1000), headers=headers,
                       timeout=TIMEOUT)
    assert ok.status_code == 201 and ok.json()["resource"]["size"] == 1000
    big = requests.post(url, data=_chunked_multipart(boundary, LIMIT * 2), headers=headers,
                        timeout=TIMEOUT)
    assert error_of(big) == (413, "too_large")
    assert api.listed(host)["revision"] == 1
    assert len(files_in(data_dir / "files")) == 1
    wait_until(lambda: files_in(data_dir / "tmp") == [])


def test_interrupted_upload_leaves_nothing(api: Api, data_dir: Path) -> None:
    host = api.create()
    boundary = "cutCUTcut"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"half.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    size = 600 * 1024
    split = urlsplit(api.url)
    request_head = (
        f"POST /api/sessions/{host.session_id}/resources HTTP/1.1\r\n"
        f"Host: {split.netloc}\r\nAuthorization: Bearer {host.token}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {len(head) + size + len(tail)}\r\n\r\n"
    ).encode()
    with socket.create_connection((split.hostname, split.port), timeout=TIMEOUT) as sock:
        sock.sendall(request_head + head + b"h" * (size // 2))
        wait_until(lambda: files_in(data_dir / "tmp") != [], what="the upload to start")
    wait_until(lambda: files_in(data_dir / "tmp") == [], what="the temp file to go")
    _assert_nothing_stored(api, host, data_dir)
    assert api.upload_ok(host)["revision"] == 1  # the server is fine afterwards


def test_concurrent_uploads_get_unique_gapless_revisions(api: Api, data_dir: Path) -> None:
    host = api.create()
    guest = api.join(host)
    # Five people, four uploads each at once (the most one person may send at once).
    uploaders = [host, guest, *(api.join(host, f"P{i}") for i in range(3))]
    with concurrent.futures.ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(
            lambda i: api.upload_ok(uploaders[i % 5], f"f{i}.txt", b"x" * (i + 1)),
            range(20),
        ))
    assert sorted(r["revision"] for r in results) == list(range(1, 21))
    listed = api.listed(host)
    assert listed["revision"] == 20 and len(listed["resources"]) == 20
    assert len(files_in(data_dir / "files")) == 20
    with concurrent.futures.ThreadPoolExecutor(max_workers=20) as pool:
        deleted = list(pool.map(lambda r: api.delete(host, r["resource"]["id"]).json(), results))
    assert sorted(d["revision"] for d in deleted) == list(range(21, 41))
    assert api.listed(guest) == {"revision": 40, "resources": []}
