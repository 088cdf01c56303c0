"""What the server's error codes mean to a person: one table for the whole client.

The server answers every refusal with ``{"error": {"code", "message"}}``
(docs/WIRE.md); the client shows ``explain(code, ...)``, which says it in words
a participant can act on, and falls back to the server's own message for codes
it does not know. Fragments are lower case without a final period, so they fit
into "Upload of “x” failed: …"; :func:`sentence` makes a sentence of one.
Callers wrap them in their ``tr()``.
"""

from __future__ import annotations

REFUSALS: dict[str, str] = {
    # sign-in and connection
    "unauthorized": "the meeting did not accept your sign-in (invalid token)",
    "token_expired": "your sign-in has expired; join the meeting again",
    "forbidden": "you may not do that",
    "not_found": "it no longer exists",
    "ended": "the host ended this meeting",
    "unreachable": "the server cannot be reached",
    "timeout": "the server did not answer in time",
    "offline": "you are not connected to the meeting",
    "too_many_connections": "this meeting is open in too many windows with your sign-in",
    "not_in_call": "you are in this call in another window",
    "certificate_mismatch": (
        "the server's certificate is not the one in the invite link, so the connection "
        "was refused before anything was sent; someone may be intercepting it, or the "
        "server made a new certificate: ask the host for a new link"),
    "certificate_untrusted": (
        "the server's certificate is not trusted, so the connection was refused before "
        "anything was sent"),
    # files
    "too_large": "the file is larger than the meeting accepts",
    "empty_file": "the file is empty",
    "quota_exceeded": "the meeting's shared files are full; delete some first",
    "insufficient_storage": "the server has no room for more files",
    "too_many_uploads": "too many files are being sent at once; try again when one is done",
    # meeting features
    "rate_limited": "that was too often in a short time; wait a moment and try again",
    "too_many_polls": "this meeting has as many polls as it may hold",
    "poll_closed": "the poll is closed",
}


def explain(code: str, message: str = "", status: int = 0) -> str:
    """The words for a refusal (a fragment, see the module docstring)."""
    known = REFUSALS.get(code)
    if known:
        return known
    if status >= 500:
        return f"the server had a problem ({status})"
    return message or code


def sentence(fragment: str) -> str:
    """``"the server …"`` -> ``"The server …."``"""
    if not fragment:
        return fragment
    text = fragment[0].upper() + fragment[1:]
    return text if text.endswith((".", "!", "?")) else text + "."
