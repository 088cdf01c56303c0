"""The server: plain HTTP on loopback, HTTPS beyond it (self-signed, or a certificate given)."""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from conference_gui.server import ServerConfig, ServerThread
from conference_gui.server.tls import SELF_SIGNED_FILE, TLS_DIR

from .support import CertificateAuthority, presented_fingerprint


def _file_fingerprint(path: Path) -> str:
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def test_loopback_stays_plain_http(tmp_path: Path) -> None:
    for host in ("127.0.0.1", "localhost", "::1", "127.0.0.2"):
        assert not ServerConfig(host=host, data_dir=tmp_path).serves_tls, host
    assert ServerConfig(host="0.0.0.0", data_dir=tmp_path).serves_tls
    assert not ServerConfig(host="0.0.0.0", data_dir=tmp_path, insecure_http=True).serves_tls
    srv = ServerThread(ServerConfig(host="127.0.0.1", port=0, data_dir=tmp_path / "data"))
    url = srv.start()
    try:
        assert url.startswith("http://127.0.0.1:")
        assert srv.fingerprint is None
        assert requests.get(f"{url}/api/info", timeout=10).status_code == 200
        assert not (tmp_path / "data" / TLS_DIR).exists()  # no certificate was made
    finally:
        srv.stop()


def test_beyond_loopback_https_with_a_self_signed_certificate_kept_in_the_data_folder(
    lan_address: str, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    fingerprints = []
    for _ in range(2):  # the second start finds the certificate and keeps it
        srv = ServerThread(ServerConfig(host=lan_address, port=0, data_dir=data))
        url = srv.start()
        try:
            assert url.startswith(f"https://{lan_address}:")
            port = int(url.rsplit(":", 1)[1])
            assert srv.fingerprint == presented_fingerprint(lan_address, port)
            fingerprints.append(srv.fingerprint)
            with pytest.raises(requests.ConnectionError):  # nothing in plain text
                requests.get(f"http://{lan_address}:{port}/api/info", timeout=10)
        finally:
            srv.stop()
    assert fingerprints[0] == fingerprints[1]
    pem = data / TLS_DIR / SELF_SIGNED_FILE
    assert stat.S_IMODE(pem.stat().st_mode) == 0o600  # it holds the private key
    assert _file_fingerprint(pem) == fingerprints[0]
    assert b"PRIVATE KEY" in pem.read_bytes()


def test_the_command_line_says_https_and_the_fingerprint_or_plain_http_when_told(
    lan_address: str, tmp_path: Path
) -> None:
    def first_lines(*args: str) -> list[str]:
        proc = subprocess.Popen(
            [sys.executable, "-m", "conference_gui.server", "--port", "0", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        try:
            assert proc.stdout is not None
            lines = [proc.stdout.readline().strip()]
            if lines[0].startswith("listening on https://"):
                lines.append(proc.stdout.readline().strip())
            return lines
        finally:
            proc.terminate()
            proc.communicate(timeout=20)

    data = tmp_path / "data"
    listening, certificate = first_lines("--host", lan_address, "--data-dir", str(data))
    assert listening.startswith(f"listening on https://{lan_address}:")
    made = _file_fingerprint(data / TLS_DIR / SELF_SIGNED_FILE)
    assert certificate == f"tls certificate sha256:{made}"
    (plain,) = first_lines("--host", lan_address, "--data-dir", str(data), "--insecure-http")
    assert plain.startswith(f"listening on http://{lan_address}:")
    (loop,) = first_lines("--host", "127.0.0.1", "--data-dir", str(tmp_path / "other"))
    assert loop.startswith("listening on http://127.0.0.1:")
    bad = subprocess.run(
        [sys.executable, "-m", "conference_gui.server", "--host", lan_address, "--tls-cert",
         str(tmp_path / "missing.pem"), "--data-dir", str(data)],
        capture_output=True, text=True, timeout=60,
    )
    assert bad.returncode == 2 and "--tls-cert" in bad.stderr


def test_a_certificate_of_a_ca_is_served_as_given(lan_address: str, tmp_path: Path) -> None:
    ca = CertificateAuthority(tmp_path / "ca")
    cert, key = ca.issue("server", lan_address)
    srv = ServerThread(ServerConfig(host=lan_address, port=0, data_dir=tmp_path / "data",
                                    tls_cert=cert, tls_key=key))
    url = srv.start()
    try:
        assert url.startswith("https://")
        assert srv.fingerprint is None  # clients verify it against CAs: nothing to pin
        port = int(url.rsplit(":", 1)[1])
        assert presented_fingerprint(lan_address, port) == _file_fingerprint(cert)
        # An ordinary HTTPS client that trusts the CA is content, name included.
        r = requests.get(f"{url}/api/info", timeout=10, verify=str(ca.cert_file))
        assert r.status_code == 200
        assert not (tmp_path / "data" / TLS_DIR).exists()
    finally:
        srv.stop()
    assert os.stat(key).st_mode & 0o077 == 0
