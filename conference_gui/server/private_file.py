"""Files a server makes once and keeps private (its token secret, its TLS certificate)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def create_once(path: Path, content: bytes, prefix: str) -> None:
    """Put ``content`` at ``path`` (mode 0600) unless something is there already.

    Written to a private temporary file, then linked into place, which fails
    if the name exists: two nodes starting together on one shared folder never
    read a half-written file, and both end up with the same one.
    """
    fd, tmp = tempfile.mkstemp(prefix=prefix, dir=path.parent)  # mode 0600
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another node was first: use theirs
        except OSError:  # a file system without hard links: exclusive create instead
            with contextlib.suppress(FileExistsError):
                fd_new = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd_new, "wb") as out:
                    out.write(content)
    finally:
        os.unlink(tmp)
