"""Cleaning of user-supplied text: display names, titles, file names, chat.

Unicode is kept (people's names and file names are not ASCII); what goes is
what can hurt: control characters, lone surrogates (they cannot be stored or
encoded as UTF-8), bidi overrides (they disguise ``gpj.exe`` as ``exe.jpg``)
and, for file names, every path component.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

MAX_DISPLAY_NAME = 64
MAX_TITLE = 200
MAX_FILENAME = 255
_MAX_EXTENSION = 32
_FALLBACK_FILENAME = "file"

# Bidi embeddings/overrides/isolates, LRM/RLM/ALM, and the BOM.
_INVISIBLE = frozenset(
    "\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff"
)
#: Letters and marks that draw nothing, used to make blank or look-alike names:
#: Hangul fillers, the braille blank, Khmer inherent vowels, the combining
#: grapheme joiner, the Mongolian vowel separator.
_FILLERS = frozenset("\u115f\u1160\u3164\uffa0\u2800\u17b4\u17b5\u034f\u180e")
#: Format characters that are kept: ZWNJ and ZWJ (Persian, Indic scripts, emoji
#: sequences). Every other format character (U+200B zero-width space, U+2060 word
#: joiner, U+00AD soft hyphen, ...) is removed.
_KEPT_FORMAT = frozenset("\u200c\u200d")
_PATH_SEPARATORS = re.compile(r"[\\/]")


def _is_tag(ch: str) -> bool:  # emoji tag sequences (subdivision flags)
    return "\U000e0020" <= ch <= "\U000e007f"


def _is_unsafe(ch: str) -> bool:
    if ch in _INVISIBLE or ch in _FILLERS:
        return True
    category = unicodedata.category(ch)
    if category == "Cf":
        return ch not in _KEPT_FORMAT and not _is_tag(ch)
    return category in ("Cc", "Cs", "Zl", "Zp")


def has_visible(text: str) -> bool:
    """Whether anything in ``text`` draws: a letter, digit, punctuation or symbol."""
    return any(unicodedata.category(ch)[0] in "LNPS" and ch not in _FILLERS for ch in text)


def strip_unsafe(text: str) -> str:
    """NFC-normalise and drop control, surrogate, line-separator and bidi characters."""
    text = unicodedata.normalize("NFC", text)
    return "".join(ch for ch in text if not _is_unsafe(ch))


def clean_display_name(raw: str, max_length: int = MAX_DISPLAY_NAME) -> str:
    """A one-line name: invisible characters removed, whitespace runs collapsed, capped;
    ``""`` means unusable (nothing visible is left)."""
    text = unicodedata.normalize("NFC", raw)
    text = "".join(" " if ch.isspace() else ch for ch in text)
    text = " ".join(strip_unsafe(text).split())
    text = text[:max_length].strip()
    return text if has_visible(text) else ""


def clean_title(raw: str) -> str:
    return clean_display_name(raw, MAX_TITLE)


def clean_text(raw: str) -> str:
    """Chat text: keeps line breaks and tabs, drops other control and invisible characters
    (callers refuse a text without :func:`has_visible` characters)."""
    text = raw.replace("\r\n", "\n").replace("\r", "\n")
    text = unicodedata.normalize("NFC", text)
    return "".join(ch for ch in text if ch in "\n\t" or not _is_unsafe(ch))


def clean_filename(raw: str | None) -> str:
    """The visible name of an upload; never used as a path on the server.

    Keeps the last path component (``/`` and ``\\`` both count), removes
    unsafe characters, leading dots/spaces and trailing dots/spaces (Windows
    cannot save those), caps the length while keeping the extension, and falls
    back to ``"file"``.
    """
    if not raw:
        return _FALLBACK_FILENAME
    parts = [p for p in _PATH_SEPARATORS.split(raw) if p]
    name = strip_unsafe(parts[-1]) if parts else ""
    name = name.lstrip(". \t").rstrip(". \t")
    if len(name) > MAX_FILENAME:
        stem, dot, ext = name.rpartition(".")
        if dot and stem and len(ext) <= _MAX_EXTENSION:
            name = stem[: MAX_FILENAME - len(ext) - 1].rstrip() + "." + ext
        else:
            name = name[:MAX_FILENAME]
    return name or _FALLBACK_FILENAME


def _ascii_fallback(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name)
    ascii_only = "".join(
        ch if ch not in '"\\%;' else "_"
        for ch in decomposed
        if " " <= ch <= "~"
    ).strip()
    stem, dot, ext = ascii_only.rpartition(".")
    if not dot:
        stem, ext = ascii_only, ""
    if not any(ch.isalnum() for ch in stem):
        stem = "download"
    return f"{stem}.{ext}" if ext else stem


def content_disposition(name: str) -> str:
    """``attachment`` with an ASCII ``filename`` for old clients and RFC 6266 ``filename*``."""
    encoded = quote(name, safe="")
    return f"attachment; filename=\"{_ascii_fallback(name)}\"; filename*=UTF-8''{encoded}"
