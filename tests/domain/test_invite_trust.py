"""Invite links with a certificate fingerprint (issue 16), and links without one."""

from __future__ import annotations

import pytest

from conference_gui.domain.invite import InviteError, InviteLink
from conference_gui.domain.trust import ServerTrust, parse_fingerprint, spaced

FP = "9bce4fe3f817e3d831ff3f9c9277493f3d70cd67431ace621381e78d5f2c2f1b"


def test_a_link_carries_the_fingerprint_and_reads_back() -> None:
    link = InviteLink("https://ann-laptop:8765", "abc123", "c0de", fingerprint=FP)
    text = str(link)
    assert text == f"https://ann-laptop:8765/join/abc123?invite=c0de&cert=sha256:{FP}"
    assert InviteLink.parse(text) == link
    assert link.trust == ServerTrust(fingerprint=FP) and link.trust.pinned


def test_links_without_a_fingerprint_read_as_before() -> None:
    old = "http://127.0.0.1:43121/join/abc123?invite=c0de"
    link = InviteLink.parse(old)
    assert (link.server_url, link.session_id, link.code, link.fingerprint) == (
        "http://127.0.0.1:43121", "abc123", "c0de", None)
    assert str(link) == old
    assert not link.trust.pinned
    # Other parameters are ignored, as before; the order does not matter.
    assert InviteLink.parse(f"https://h:1/join/s?cert=sha256:{FP}&x=1&invite=c").fingerprint == FP


def test_fingerprints_are_read_in_the_forms_people_copy() -> None:
    for form in (FP, FP.upper(), f"sha256:{FP}", spaced(FP), f"SHA256:{spaced(FP)}"):
        assert parse_fingerprint(form) == FP
    for bad in ("", "sha1:" + FP[:40], FP[:-1], FP + "00", "zz" * 32, "md5:" + FP):
        with pytest.raises(ValueError):
            parse_fingerprint(bad)


def test_a_damaged_or_misplaced_fingerprint_is_refused_with_words() -> None:
    with pytest.raises(InviteError, match="damaged"):
        InviteLink.parse(f"https://h:1/join/s?invite=c&cert=sha256:{FP[:-2]}")
    with pytest.raises(InviteError, match="not https"):
        InviteLink.parse(f"http://h:1/join/s?invite=c&cert=sha256:{FP}")
