"""The wire contract's types, shared by the client and the server (no Qt, no I/O).

``types`` declares every JSON shape once with msgspec; ``codec`` converts
untrusted JSON into them (raising :class:`PayloadError`) and back. Import the
package (``from conference_gui import protocol as wire``) and use ``wire.Poll``,
``wire.convert(payload, wire.Poll)``, ...
"""

from .codec import (
    NotAnObject as NotAnObject,
)
from .codec import (
    PayloadError as PayloadError,
)
from .codec import (
    convert as convert,
)
from .codec import (
    convert_object as convert_object,
)
from .codec import (
    decode as decode,
)
from .codec import (
    encode as encode,
)
from .codec import (
    to_json as to_json,
)
from .types import *  # noqa: F403
