"""The call's size rules on the client side (pure; the server decides the mode).

A mesh makes every sender encode its camera once per other person (aiortc
has no simulcast), so its cost grows with the call; the server moves a call
of three or more to the SFU when it has one (``--janus-url``). Without one,
the window says when the call has grown past what a mesh carries well here:
:data:`MESH_MAX_PEOPLE`, measured in docs/BENCHMARKS.md ("Mesh against SFU").
"""

from __future__ import annotations

#: The most people a mesh call carries well (measured: docs/BENCHMARKS.md, "Mesh
#: against SFU": per-client CPU grows by about a fifth of a core per extra person at
#: 640x480@30; past this, a 2-core laptop's encoders fall behind).
MESH_MAX_PEOPLE = 4

#: ``call-mode``'s reason when a big call left the SFU because its media server went away.
MEDIA_SERVER_LOST = "media-server-lost"


def too_big_for_mesh(people: int, mode: str) -> bool:
    """Should the window say the call has grown too big for peer to peer?"""
    return mode == "mesh" and people > MESH_MAX_PEOPLE
