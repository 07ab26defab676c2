"""Who may do what: one table of privileged actions and the roles allowed each, and the one
way handlers refuse. Every staff, coordinator and admin command and button asks `can` on the
server with the role the middleware read from the database for this very update (ADMIN_IDS
count as admin), so a revoked role stops working at the next press, and a forged or replayed
button from someone without the role changes nothing: it is refused and logged (the action
and the role, never who or what data).

A role may be scoped to regions (`people.scope_regions`: province "35" or regency "35.78"
codes); `scope` gives the regions a person's privileged work stays inside (None: everywhere).
`may` is the one question every command, button and flow finisher asks: the role for the
action, and, for an action on something placed (a training session, a submission, a
cooperative, a founding plan, a region chosen in a filter or a segment), that its place is
inside the scope. A nationwide thing (no place) is inside only an unscoped role's reach.
"""

from __future__ import annotations

import logging
from typing import Any

from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.outbox import Outbox
from flows import regions
from flows.i18n import N_
from storage.models import Person, Role

log = logging.getLogger(__name__)

ADMIN, STAFF, COORDINATOR = Role.ADMIN, Role.STAFF, Role.COORDINATOR
OUTSIDE = N_("Sorry, that is outside your regions.")


class _Untargeted:
    """The default of `may`'s region: the action itself, on nothing placed (opening /tinjau,
    whose lists are then bounded by `scope`)."""

    def __repr__(self) -> str:
        return "UNTARGETED"


UNTARGETED: Any = _Untargeted()

# action -> the roles allowed it, and what someone without it is told (a msgid).
ACTIONS: dict[str, tuple[frozenset[Role], str]] = {
    "broadcast": (
        frozenset({COORDINATOR, ADMIN}),
        N_("Sorry, only coordinators can send announcements."),
    ),
    "training.manage": (
        frozenset({COORDINATOR, ADMIN}),
        N_("Sorry, only coordinators can add or change training sessions."),
    ),
    "review": (frozenset({STAFF, ADMIN}), N_("Sorry, only reviewers can do that.")),
    "reveal": (frozenset({STAFF, ADMIN}), N_("Sorry, only reviewers can do that.")),
    "reasons": (frozenset({STAFF, ADMIN}), N_("Sorry, only reviewers can do that.")),
    "export": (
        frozenset({STAFF, COORDINATOR, ADMIN}),
        N_("Sorry, only staff and coordinators can export lists."),
    ),
    "export.full": (
        frozenset({STAFF, ADMIN}),
        N_("Sorry, only reviewers can export full numbers."),
    ),
    "stats": (
        frozenset({STAFF, COORDINATOR, ADMIN}),
        N_("Sorry, only staff and coordinators can see the statistics."),
    ),
    "roles": (frozenset({ADMIN}), N_("Sorry, only admins can do that.")),
    "desk": (
        frozenset({STAFF, COORDINATOR, ADMIN}),
        N_("Sorry, the staff desk is only for staff, coordinators and admins."),
    ),
    "audit": (frozenset({ADMIN}), N_("Sorry, only admins can do that.")),
    "tickets": (
        frozenset({STAFF, COORDINATOR, ADMIN}),
        N_("Sorry, only staff and coordinators can answer questions."),
    ),
    "tickets.canned": (
        frozenset({STAFF, ADMIN}),
        N_("Sorry, only staff and admins can change the ready answers."),
    ),
}


# The privileged commands, the action each needs, and what /help says of it.
COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("siaran", "broadcast", N_("write and send an announcement")),
    ("pelatihan_baru", "training.manage", N_("add a training session")),
    ("tinjau", "review", N_("the review queue")),
    ("ekspor", "export", N_("export submissions as CSV or Excel")),
    ("statistik", "stats", N_("where people drop out of each journey")),
    ("peran", "roles", N_("who has which role; invite links")),
    ("audit", "audit", N_("the audit log")),
    ("meja", "desk", N_("a sign-in link to the staff desk in the browser")),
    ("tiket", "tickets", N_("questions from returnees in your regions")),
)


def commands_for(role: Role | str | None) -> list[tuple[str, str]]:
    """(command, description msgid) of the privileged commands this role may use."""
    return [(command, about) for command, action, about in COMMANDS if can(role, action)]


def can(role: Role | str | None, action: str) -> bool:
    """True when `role` may do `action` (an unknown action: nobody may)."""
    allowed = ACTIONS.get(action)
    if allowed is None or role is None:
        return False
    try:
        return Role(role) in allowed[0]
    except ValueError:
        return False


def scope(person: Person | None, role: Role | str | None) -> list[str] | None:
    """The regions this person's privileged work stays inside; None: everywhere. An admin is
    never scoped (ADMIN_IDS make someone admin whatever their row says)."""
    if person is None or role == ADMIN:
        return None
    return list(person.scope_regions) if person.scope_regions is not None else None


def in_scope(code: str | None, scope_: list[str] | None) -> bool:
    """A place (province or regency code) inside a scope; None scope: anywhere. A place
    unknown (None) is inside only an unscoped role's reach."""
    return regions.inside(code, scope_)


def place(thing: Any) -> str | None:
    """Where a training session, submission, cooperative or founding plan is: its regency,
    else its province; None: nationwide (or unknown)."""
    return getattr(thing, "regency_code", None) or getattr(thing, "province_code", None)


def may(
    person: Person | None, role: Role | str | None, action: str, region: Any = UNTARGETED
) -> bool:
    """The role may do `action` and, given the region of its target (a code, or None for a
    nationwide target), that region is inside the person's scope."""
    if not can(role, action):
        return False
    if region is UNTARGETED:
        return True
    return in_scope(region, scope(person, role))


def refuse(
    outbox: Outbox,
    action: str,
    role: Role | str | None,
    *,
    callback: CallbackQuery | None = None,
    message: Message | None = None,
    outside: bool = False,
) -> None:
    """Tell the person they may not, in their language, and log the refusal (no person data):
    the role lacks the action, or (`outside`) the target is outside the role's regions."""
    if outside:
        log.warning("refused %s for role %s outside its regions", action, role)
        text = _(OUTSIDE)
    else:
        log.warning("refused %s for role %s", action, role)
        text = _(ACTIONS[action][1]) if action in ACTIONS else _("Sorry, you cannot do that.")
    if callback is not None:
        outbox.add(callback.answer(text, show_alert=True))
    elif message is not None:
        outbox.add(message.answer(text))


def gate(
    outbox: Outbox,
    action: str,
    person: Person | None,
    role: Role | str | None,
    *,
    message: Message,
) -> bool:
    """The start of every privileged command: the role (refused and logged when wrong), then a
    profile to act from (an ADMIN_IDS admin who never sent /start has none yet)."""
    if not check(outbox, action, role, message=message):
        return False
    if person is None:
        outbox.add(message.answer(_("Please send /start to begin.")))
        return False
    return True


def check(
    outbox: Outbox,
    action: str,
    role: Role | str | None,
    *,
    person: Person | None = None,
    region: Any = UNTARGETED,
    callback: CallbackQuery | None = None,
    message: Message | None = None,
) -> bool:
    """`may`, refusing (and logging) when not: `if not roles.check(...): return`."""
    if may(person, role, action, region):
        return True
    refuse(outbox, action, role, callback=callback, message=message, outside=can(role, action))
    return False
