"""HTTPS and WSS when the meeting leaves this machine.

A server that listens on anything but loopback serves TLS (``ServerConfig.serves_tls``):

- with ``--tls-cert`` / ``--tls-key``: that certificate (a real one, from a CA the
  clients trust; they verify it as browsers do: chain and host name);
- else a self-signed certificate made at first start and kept in the data folder
  (``tls/self-signed.pem``: key and certificate in one file, mode 0600). Nobody
  vouches for it, so the client trusts exactly it: its SHA-256 fingerprint travels
  in the invite link and the client pins it (``conference_gui/services/tls.py``).

``--insecure-http`` is the explicit way back to plain HTTP (behind a proxy that
terminates TLS). Loopback stays plain HTTP: nothing leaves the machine.

The self-signed pair is written to a private temporary file and hard-linked into
place, like the token secret: nodes starting together on one shared folder end
up with the same certificate (and so the same fingerprint), never a half-written
one. It is valid for ten years; pinning checks the certificate itself, not its
dates, but an expired one is replaced at the next start (and the log says that
the fingerprint, and so the invite links, changed).
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import ipaddress
import logging
import socket
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from conference_gui.server.private_file import create_once

log = logging.getLogger(__name__)

TLS_DIR = "tls"
SELF_SIGNED_FILE = "self-signed.pem"
VALID_DAYS = 3650
_WILDCARD_HOSTS = {"", "0.0.0.0", "::"}


def fingerprint(der: bytes) -> str:
    """SHA-256 of a DER certificate as 64 lower-case hex digits (the invite link's form)."""
    return hashlib.sha256(der).hexdigest()


def spaced(hex_digest: str) -> str:
    """``AB:CD:…``, the way browsers and ``openssl x509 -fingerprint`` show it."""
    return ":".join(hex_digest[i:i + 2] for i in range(0, len(hex_digest), 2)).upper()


@dataclass(frozen=True, slots=True)
class ServerCertificate:
    """What the server serves: the files, and the fingerprint when it is self-signed."""

    cert_file: Path
    key_file: Path | None
    #: SHA-256 of the certificate (hex); set for the self-signed one, which clients pin
    pinned_fingerprint: str | None

    def context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(self.cert_file, self.key_file)
        return ctx


def own_certificate(cert_file: Path, key_file: Path | None) -> ServerCertificate:
    """A certificate given with ``--tls-cert``/``--tls-key`` (checked by loading it)."""
    cert = ServerCertificate(cert_file, key_file, None)
    try:
        cert.context()
    except (OSError, ssl.SSLError, ValueError) as exc:
        raise ValueError(f"cannot use --tls-cert {cert_file} / --tls-key {key_file}: "
                         f"{exc}") from None
    return cert


def self_signed_certificate(data_dir: Path, host: str) -> ServerCertificate:
    """The data folder's self-signed certificate, made on first use (see module docstring)."""
    folder = data_dir / TLS_DIR
    path = folder / SELF_SIGNED_FILE
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    der = _read_valid(path)
    if der is None:
        if path.exists():
            log.warning("%s has expired or is damaged: making a new self-signed certificate; "
                        "its fingerprint changes, so earlier invite links stop working", path)
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        _create(path, host)
        der = _read_valid(path)
        if der is None:  # pragma: no cover - we just wrote it
            raise RuntimeError(f"{path} could not be made")
    return ServerCertificate(path, None, fingerprint(der))


def _read_valid(path: Path) -> bytes | None:
    """The DER of the certificate in ``path`` if it is there, whole and not expired."""
    try:
        pem = path.read_bytes()
        cert = x509.load_pem_x509_certificate(pem)
        serialization.load_pem_private_key(pem, password=None)
    except (OSError, ValueError):
        return None
    if cert.not_valid_after_utc <= datetime.datetime.now(datetime.UTC):
        return None
    return cert.public_bytes(serialization.Encoding.DER)


def _create(path: Path, host: str) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    hostname = socket.gethostname() or "localhost"
    names: list[x509.GeneralName] = [x509.DNSName("localhost")]
    if hostname != "localhost":
        names.append(x509.DNSName(hostname))
    addresses = {"127.0.0.1", "::1"}
    if host not in _WILDCARD_HOSTS:
        try:
            addresses.add(str(ipaddress.ip_address(host.strip("[]"))))
        except ValueError:
            if host.lower() not in (hostname.lower(), "localhost"):
                names.append(x509.DNSName(host))
    names += [x509.IPAddress(ipaddress.ip_address(a)) for a in sorted(addresses)]
    subject = x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, hostname[:64]),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "conference-gui (self-signed)"),
    ])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                       critical=False)
        .sign(key, hashes.SHA256())
    )
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ) + cert.public_bytes(serialization.Encoding.PEM)
    create_once(path, pem, prefix=".self-signed-")


def server_certificate(config_host: str, data_dir: Path, cert_file: Path | None,
                       key_file: Path | None) -> ServerCertificate:
    """The certificate a TLS server serves: the given one, else the self-signed one."""
    if cert_file is not None:
        return own_certificate(cert_file, key_file)
    return self_signed_certificate(data_dir, config_host)
