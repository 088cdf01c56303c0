"""Meeting features, each installed into one session and window as a unit.

A feature is a QObject whose constructor takes the :class:`MeetingSession`
(the one socket, the API, settings, *me*, the roster) and the window (the
shell), builds its models, controllers and widgets, adds its dock or stage,
its control-bar buttons and menu entries, and registers its own shutdown.
Adding a feature means adding it to :data:`DEFAULT_FEATURES`, not editing
the window.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from conference_gui.session import MeetingSession
from conference_gui.ui.main_window import MainWindow


class Feature(Protocol):
    """What an installed feature offers the window: a name (tests and tools find it by)."""

    name: str


FeatureFactory = Callable[[MeetingSession, MainWindow], Feature]


def default_features() -> list[FeatureFactory]:
    """Every feature of a meeting window, in the order their buttons and docks appear."""
    from conference_gui.features.call import CallFeature
    from conference_gui.features.chat import ChatFeature
    from conference_gui.features.participants import ParticipantsFeature
    from conference_gui.features.polls import PollsFeature
    from conference_gui.features.resources import ResourcesFeature

    return [CallFeature, ResourcesFeature, ParticipantsFeature, ChatFeature, PollsFeature]


def install_features(
    session: MeetingSession, window: MainWindow, factories: Sequence[FeatureFactory]
) -> None:
    """Install each feature into ``window`` (in order), then restore the saved layout."""
    for factory in factories:
        feature = factory(session, window)
        window.features[feature.name] = feature
    window.restore_layout()
