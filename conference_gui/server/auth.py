"""Signed tokens (JWT, HS256) and the secret that signs them.

The secret is made once per data folder and kept in ``secret.key`` (mode
0600) so tokens survive a restart; it is never logged.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import jwt

from .errors import ApiError
from .private_file import create_once

Role = Literal["host", "participant"]
ROLES: tuple[Role, ...] = ("host", "participant")
SECRET_FILE = "secret.key"
_SECRET_BYTES = 32
_ALGORITHM = "HS256"
_CLAIMS = ("sub", "sid", "name", "role", "exp")
#: Tokens verified and remembered (see TokenService.verify).
_VERIFIED_CACHE = 4096


@dataclass(frozen=True, slots=True)
class Identity:
    """Who a token speaks for: one user in one session."""

    user_id: str
    session_id: str
    name: str
    role: Role

    @property
    def is_host(self) -> bool:
        return self.role == "host"


def load_or_create_secret(data_dir: Path) -> bytes:
    """Read ``secret.key``, creating it on first use.

    Two nodes starting together on one shared folder end up with the same
    secret (:func:`create_once`).
    """
    path = data_dir / SECRET_FILE
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not path.exists():
        create_once(path, secrets.token_bytes(_SECRET_BYTES), prefix=".secret-")
    secret = path.read_bytes()
    if len(secret) < _SECRET_BYTES:
        raise RuntimeError(f"{path} is damaged (shorter than {_SECRET_BYTES} bytes)")
    return secret


class TokenService:
    """Issues and verifies session tokens."""

    def __init__(
        self, secret: bytes, ttl_seconds: int, clock: Callable[[], float] = time.time
    ) -> None:
        self._secret = secret
        self._ttl = ttl_seconds
        self._clock = clock
        #: token -> (identity, exp) of tokens that verified, oldest first
        self._verified: dict[str, tuple[Identity, int]] = {}

    def __repr__(self) -> str:  # keep the secret out of logs and tracebacks
        return f"TokenService(ttl_seconds={self._ttl})"

    def issue(self, identity: Identity) -> str:
        claims = {
            "sub": identity.user_id,
            "sid": identity.session_id,
            "name": identity.name,
            "role": identity.role,
            "exp": int(self._clock()) + self._ttl,
        }
        return jwt.encode(claims, self._secret, algorithm=_ALGORITHM)

    def verify(self, token: str) -> Identity:
        """Return the identity, or raise 401 ``unauthorized`` / ``token_expired``.

        A token that verified once is remembered (up to 4,096, the oldest forgotten
        first) and only its expiry is checked again: the signature and claims of the
        same string under the same secret cannot change, and checking them costs a
        tenth of a millisecond (HMAC, base64, JSON, claims) on every request and
        socket connect. Expired means ``exp <= now``, as PyJWT has it.
        """
        known = self._verified.get(token)
        if known is not None:
            identity, exp = known
            if exp > time.time():
                return identity
            del self._verified[token]
            raise ApiError(401, "token_expired", "The token has expired; join again")
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[_ALGORITHM],
                options={"require": list(_CLAIMS)},
            )
        except jwt.ExpiredSignatureError:
            raise ApiError(401, "token_expired", "The token has expired; join again") from None
        except jwt.PyJWTError:
            raise ApiError(401, "unauthorized", "The token is not valid") from None
        values = [claims.get(key) for key in ("sub", "sid", "name", "role")]
        if not all(isinstance(v, str) and v for v in values) or claims["role"] not in ROLES:
            raise ApiError(401, "unauthorized", "The token is not valid")
        identity = Identity(claims["sub"], claims["sid"], claims["name"], claims["role"])
        if len(self._verified) >= _VERIFIED_CACHE:
            del self._verified[next(iter(self._verified))]
        self._verified[token] = (identity, int(claims["exp"]))
        return identity


def bearer_token(header: str | None) -> str:
    """The token of an ``Authorization: Bearer`` header, or 401."""
    if not header:
        raise ApiError(401, "unauthorized", "Missing Authorization: Bearer token")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "unauthorized", "Authorization must be 'Bearer <token>'")
    return token.strip()
