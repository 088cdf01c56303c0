"""The call's size rules on the client side (pure; the server decides the mode).

A mesh makes every sender encode its camera once per other person (aiortc
has no simulcast), so its cost grows with the call; the server moves a call
of three or more to the SFU when it has one (``--janus-url``). Without one,
the window says when the call has grown past what a mesh carries well here:
:data:`MESH_MAX_PEOPLE`, measured in docs/BENCHMARKS.md ("Mesh against SFU").
"""

from __future__ import annotations

#: The most people a mesh call carries well (docs/BENCHMARKS.md, "Mesh size" and "Mesh
#: against SFU": a participant needs about 0.2 + 0.3 x (N - 1) cores at 640x480@30,
#: 1.1 of a 2-core laptop at four, 1.4 at five; everyone on one 2-core machine,
#: four collapse, and three when other work takes the CPU).
MESH_MAX_PEOPLE = 4

#: ``call-mode``'s reason when a big call left the SFU because its media server went away.
MEDIA_SERVER_LOST = "media-server-lost"


def too_big_for_mesh(people: int, mode: str) -> bool:
    """Should the window say the call has grown too big for peer to peer?"""
    return mode == "mesh" and people > MESH_MAX_PEOPLE
