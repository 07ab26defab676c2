"""What both sides of the help desk in the bot share."""

from __future__ import annotations

from datetime import timedelta

from flows.i18n import N_

WAIT = timedelta(minutes=30)  # how long "the next message is the question / the reply" holds
REFUSED = {
    "closed": N_("This question is already closed."),
    "not_found": N_("This question no longer exists."),
    "too_long": N_("That is too long for one message. Please send it in shorter parts."),
    "empty": N_("Please type a message, or send a voice note."),
}
