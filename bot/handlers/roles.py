"""/peran (alias /roles): an admin sees who has a role, changes or removes it, and makes
one-time invitation links (`https://t.me/<bot>?start=role-<token>`) that give a role, and its
regions, to whoever opens them first before they expire.

Every command and button checks the role on the server (`bot.roles`, action "roles") with the
role the middleware read for this very update; a press from someone without it (a forged or
replayed button, or an admin revoked since) changes nothing and is logged. Admins from the
settings (ADMIN_IDS) are shown as such and cannot be changed here. An admin by row cannot step
down while they are the only one. Every grant, revoke and invitation is in the audit log, by
ids and roles only: never a name, and never an invitation's token (the link's secret).
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Callable
from datetime import timedelta

from aiogram import Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot import journeys, notices, roles
from bot import keyboards as kb
from bot.config import Settings
from bot.driver import Turn
from bot.handlers.common import IsCommand, pressed_message, turn_for
from bot.handlers.desk import menu_button as desk_menu
from bot.outbox import Outbox
from bot.text import moment, t
from flows import regions
from flows.i18n import N_
from operations import roles as operations
from storage import repo
from storage import roles as store
from storage.audit import audit
from storage.models import Person, Role, utcnow

log = logging.getLogger(__name__)

ACTION = "roles"
PEOPLE_PAGE = 20
PROVINCE_PAGE = 12
REGENCY_PAGE = 8
EVERYWHERE = "all"
TOKEN = re.compile(r"^[A-Za-z0-9_-]{8,32}$")
DOUBLE_TAP = timedelta(seconds=5)  # the same invitation asked for again this soon: shown again

# Button data names a role by one letter.
ROLE_OF = {"c": Role.COORDINATOR, "s": Role.STAFF, "a": Role.ADMIN}
LETTER = {role: letter for letter, role in ROLE_OF.items()}

ROLE_NAMES = {
    Role.COORDINATOR: N_("Coordinator"),
    Role.STAFF: N_("Reviewer"),
    Role.ADMIN: N_("Admin"),
}
GROUPS = {
    Role.ADMIN: N_("Admins"),
    Role.COORDINATOR: N_("Coordinators"),
    Role.STAFF: N_("Reviewers"),
}
INVITE_BUTTONS = {
    Role.COORDINATOR: N_("Invite a coordinator"),
    Role.STAFF: N_("Invite a reviewer"),
    Role.ADMIN: N_("Invite an admin"),
}
# What someone who has just been given a role can now do.
NOW_YOU_CAN = {
    Role.COORDINATOR: N_(
        "✅ You are now a coordinator ({regions}). Thank you for helping!\n\n"
        "What you can do now:\n"
        "• /siaran — send an announcement to the returnees in your regions;\n"
        "• /pelatihan_baru — add a training session."
    ),
    Role.STAFF: N_(
        "✅ You are now a reviewer ({regions}). Thank you for helping!\n\n"
        "What you can do now:\n"
        "• /tinjau — review join requests, founding plans, KUR readiness and training "
        "sign-ups;\n"
        "• /ekspor — export lists."
    ),
    Role.ADMIN: N_(
        "✅ You are now an admin. Thank you for helping!\n\n"
        "What you can do now:\n"
        "• /peran — give and remove roles, and make invitation links;\n"
        "• /audit — see who did what;\n"
        "• and everything coordinators and reviewers do: /siaran, /pelatihan_baru, /tinjau "
        "and /ekspor."
    ),
}
ROLE_ENDED = N_(
    "Your role as {role} has ended. Thank you for your help! You can go on using Pulang "
    "Juragan as before."
)


class RoleCB(CallbackData, prefix="rl"):
    """The buttons of /peran. act: list | who | role | sc | pick | set | rev | revok | xinv.
    `id`: a person (0: a new invitation) or, for xinv, an invitation; `r`: a role letter;
    `v`: a region code, or "all"; `p`: a page."""

    act: str
    id: kb.RowId = 0
    r: str = ""
    v: str = ""
    p: kb.Small = 0


# --- small helpers ---------------------------------------------------------------------------


def _role_name(role: Role | str) -> str:
    try:
        return _(ROLE_NAMES[Role(role)])
    except (KeyError, ValueError):
        return str(role)


def _scope_text(scope: list[str] | None) -> str:
    if scope is None:
        return _("everywhere")
    names = []
    for code in scope:
        try:
            names.append(regions.display_name(str(code)))
        except KeyError:
            names.append(str(code))
    return html.escape("; ".join(names)) if names else _("nowhere yet")


def _name(name: str | None) -> str:
    return html.escape(name) if name else _("(no name yet)")


def _scope_of(value: str) -> tuple[bool, list[str] | None]:
    """A scope from button data, which can be forged: (valid, regions)."""
    if value == EVERYWHERE:
        return True, None
    if value and regions.get(value) is not None and value == value.strip():
        return True, [value]
    return False, None


def _effective(holder: store.Holder, admin_ids: frozenset[int]) -> Role:
    return Role.ADMIN if holder.telegram_id in admin_ids else Role(holder.role)


def _in_locale(locale: str | None, build: Callable[[], str]) -> str:
    """Text for someone else, in their language."""
    i18n = I18n.get_current()
    chosen = locale if locale in i18n.available_locales else i18n.default_locale
    with i18n.use_locale(chosen):
        return build()


def _now_you_can(role: Role, scope: list[str] | None) -> str:
    return t(NOW_YOU_CAN[role], regions=_scope_text(scope))


async def _bot_username(turn: Turn) -> str:
    if turn.bot is not None:
        me = await turn.bot.me()
        if me.username:
            return me.username
    return "pulang_juragan_bot"


def _refuse_forged(outbox: Outbox, callback: CallbackQuery, what: str) -> None:
    log.warning("refused a roles button: %s", what)
    outbox.add(callback.answer(_("This button no longer works. Send /peran to start again.")))


# --- the list ----------------------------------------------------------------------------------


async def _list_view(
    session: AsyncSession, settings: Settings, page: int = 0
) -> tuple[str, InlineKeyboardMarkup]:
    admin_ids = settings.admin_ids
    holders = await store.people_with_roles(session, also_telegram_ids=admin_ids)
    order = {Role.ADMIN: 0, Role.COORDINATOR: 1, Role.STAFF: 2}
    holders.sort(key=lambda h: order[_effective(h, admin_ids)])
    unseen = len(admin_ids - {h.telegram_id for h in holders})
    pages = max(1, -(-len(holders) // PEOPLE_PAGE))
    page = min(page, pages - 1)
    shown = holders[page * PEOPLE_PAGE : (page + 1) * PEOPLE_PAGE]
    lines = ["👥 <b>" + _("People with a role") + "</b>"]
    buttons: list[tuple[str, CallbackData]] = []
    group: Role | None = None
    for h in shown:
        role = _effective(h, admin_ids)
        if role != group:
            group = role
            lines += ["", "<b>" + _(GROUPS[role]) + "</b>"]
        if h.telegram_id in admin_ids:
            lines.append("• " + _name(h.name) + " — " + _("set in the settings"))
            continue
        where = "" if role == Role.ADMIN else " — " + _scope_text(h.scope)
        lines.append("• " + _name(h.name) + where)
        label = (h.name or _("(no name yet)"))[:30] + " · " + _role_name(role)
        buttons.append(("✏️ " + label, RoleCB(act="who", id=h.person_id)))
    if not holders:
        lines += ["", _("Nobody has a role yet.")]
    if unseen:
        lines += [
            "",
            _("Admins set in the settings who have not opened the bot yet: {n}").format(n=unseen),
        ]
    if pages > 1:
        lines += ["", _("Page {n} of {m}").format(n=page + 1, m=pages)]
    lines += [
        "",
        _(
            "Choose someone to change or remove their role, or invite someone new with a "
            "one-time link."
        ),
    ]
    markup = kb.buttons_column(buttons)
    nav = []
    if page > 0:
        nav.append(kb._button("◀️", RoleCB(act="list", p=page - 1)))
    if page < pages - 1:
        nav.append(kb._button("▶️", RoleCB(act="list", p=page + 1)))
    if nav:
        markup.inline_keyboard.append(nav)
    for role in (Role.COORDINATOR, Role.STAFF, Role.ADMIN):
        data = (
            RoleCB(act="pick", r=LETTER[role], v=EVERYWHERE)
            if role == Role.ADMIN
            else RoleCB(act="sc", r=LETTER[role])
        )
        markup.inline_keyboard.append([kb._button("➕ " + _(INVITE_BUTTONS[role]), data)])
    return "\n".join(lines), markup


async def command(
    message: Message,
    session: AsyncSession,
    person: Person | None,
    outbox: Outbox,
    settings: Settings,
    role: Role = Role.RETURNEE,
) -> None:
    """/peran: the people with a role, and ways to change them or invite someone."""
    if not roles.gate(outbox, ACTION, person, role, message=message):
        return
    text, markup = await _list_view(session, settings)
    outbox.add(message.answer(text, reply_markup=markup))


# --- buttons ---------------------------------------------------------------------------------


async def pressed(
    callback: CallbackQuery,
    callback_data: RoleCB,
    session: AsyncSession,
    person: Person | None,
    outbox: Outbox,
    settings: Settings,
    role: Role = Role.RETURNEE,
) -> None:
    """Every /peran button: the role first, then the data (which can be forged)."""
    if not roles.check(outbox, ACTION, role, callback=callback):
        return
    if person is None:
        outbox.add(callback.answer(_("Please send /start to begin."), show_alert=True))
        return
    data = callback_data
    handler = _ACTS.get(data.act)
    if handler is None or (data.r and data.r not in ROLE_OF):
        _refuse_forged(outbox, callback, f"unknown act {data.act[:10]!r} or role")
        return
    turn = turn_for(callback, session=session, person=person, outbox=outbox, role=role)
    await handler(turn, callback, data, settings)


async def _act_list(turn: Turn, callback: CallbackQuery, data: RoleCB, settings: Settings) -> None:
    turn.outbox.add(callback.answer())
    text, markup = await _list_view(turn.session, settings, data.p)
    turn.put(text, markup, pressed_message(callback))


async def _target(
    turn: Turn, callback: CallbackQuery, data: RoleCB, settings: Settings
) -> store.Holder | None:
    """The person a button is about, if they exist and can be changed here; else says why."""
    holder = await store.holder(turn.session, person_id=data.id) if data.id else None
    if holder is None:
        _refuse_forged(turn.outbox, callback, "no such person")
        return None
    if holder.telegram_id in settings.admin_ids:
        log.warning("refused a roles button on an admin of the settings")
        turn.outbox.add(
            callback.answer(
                _("This admin is set in the settings (ADMIN_IDS) and cannot be changed here."),
                show_alert=True,
            )
        )
        return None
    return holder


def _back_to_list() -> tuple[str, RoleCB]:
    return ("⬅️ " + _("Back to the list"), RoleCB(act="list"))


async def _act_who(turn: Turn, callback: CallbackQuery, data: RoleCB, settings: Settings) -> None:
    holder = await _target(turn, callback, data, settings)
    if holder is None:
        return
    turn.outbox.add(callback.answer())
    lines = ["<b>" + _name(holder.name) + "</b>"]
    if holder.role == Role.RETURNEE:
        lines.append(_("No role: a returnee like everyone else."))
        buttons = [("➕ " + _("Give a role"), RoleCB(act="role", id=holder.person_id))]
    else:
        lines.append(_("Role: {role}").format(role=_role_name(holder.role)))
        if holder.role != Role.ADMIN:
            lines.append(_("Regions: {regions}").format(regions=_scope_text(holder.scope)))
        buttons = [
            ("🔁 " + _("Change the role or regions"), RoleCB(act="role", id=holder.person_id)),
            ("🚫 " + _("Remove the role"), RoleCB(act="rev", id=holder.person_id)),
        ]
    buttons.append(_back_to_list())
    turn.put("\n".join(lines), kb.buttons_column(buttons), pressed_message(callback))


async def _act_role(turn: Turn, callback: CallbackQuery, data: RoleCB, settings: Settings) -> None:
    holder = await _target(turn, callback, data, settings)
    if holder is None:
        return
    turn.outbox.add(callback.answer())
    i = holder.person_id
    turn.put(
        _("Which role should {name} have?").format(name=_name(holder.name)),
        kb.buttons_column(
            [
                ("🧭 " + _role_name(Role.COORDINATOR), RoleCB(act="sc", id=i, r="c")),
                ("🔎 " + _role_name(Role.STAFF), RoleCB(act="sc", id=i, r="s")),
                ("🛡 " + _role_name(Role.ADMIN), RoleCB(act="pick", id=i, r="a", v=EVERYWHERE)),
                ("⬅️ " + _("Back"), RoleCB(act="who", id=i)),
            ]
        ),
        pressed_message(callback),
    )


async def _act_sc(turn: Turn, callback: CallbackQuery, data: RoleCB, settings: Settings) -> None:
    """Where the role works: everywhere, a whole province, or one regency (paged)."""
    if data.r not in ROLE_OF or ROLE_OF[data.r] == Role.ADMIN:
        _refuse_forged(turn.outbox, callback, "scope for no role or for an admin")
        return
    if data.id and await _target(turn, callback, data, settings) is None:
        return
    turn.outbox.add(callback.answer())
    message = pressed_message(callback)
    i, r = data.id, data.r
    role = _role_name(ROLE_OF[r])
    province = regions.get(data.v) if data.v else None
    if province is not None and province.province_code is None:
        inside = regions.regencies(province.code)
        start = data.p * REGENCY_PAGE
        rows: list[tuple[str, CallbackData]] = []
        if data.p == 0:
            rows.append(
                (
                    "📍 " + _("All of {name}").format(name=province.name),
                    RoleCB(act="pick", id=i, r=r, v=province.code),
                )
            )
        rows += [
            (g.name, RoleCB(act="pick", id=i, r=r, v=g.code))
            for g in inside[start : start + REGENCY_PAGE]
        ]
        if start + REGENCY_PAGE < len(inside):
            rows.append(
                ("➡️ " + _("More"), RoleCB(act="sc", id=i, r=r, v=province.code, p=data.p + 1))
            )
        rows.append(("⬅️ " + _("Back"), RoleCB(act="sc", id=i, r=r)))
        turn.put(
            _("Which part of {name}?").format(name=province.name), kb.buttons_column(rows), message
        )
        return
    provinces = regions.provinces()
    start = data.p * PROVINCE_PAGE
    markup = kb.buttons_column(
        [("🌏 " + _("Everywhere"), RoleCB(act="pick", id=i, r=r, v=EVERYWHERE))]
    )
    markup.inline_keyboard += kb.buttons_grid(
        [
            (p.name, RoleCB(act="sc", id=i, r=r, v=p.code))
            for p in provinces[start : start + PROVINCE_PAGE]
        ],
        width=2,
    ).inline_keyboard
    if start + PROVINCE_PAGE < len(provinces):
        markup.inline_keyboard.append(
            [kb._button("➡️ " + _("More"), RoleCB(act="sc", id=i, r=r, p=data.p + 1))]
        )
    back = RoleCB(act="role", id=i) if i else RoleCB(act="list")
    markup.inline_keyboard.append([kb._button("⬅️ " + _("Back"), back)])
    turn.put(
        _(
            "Where does the {role} work? Choose everywhere, a province, or a regency or city "
            "inside a province. They will only reach people there."
        ).format(role=role.lower()),
        markup,
        message,
    )


async def _act_pick(turn: Turn, callback: CallbackQuery, data: RoleCB, settings: Settings) -> None:
    """A scope was chosen: a new invitation (id 0) shows its link; a person gets a confirm."""
    valid, scope = _scope_of(data.v)
    if data.r not in ROLE_OF or not valid:
        _refuse_forged(turn.outbox, callback, "a scope that does not exist")
        return
    new_role = ROLE_OF[data.r]
    if new_role == Role.ADMIN:
        scope = None
    if not data.id:
        turn.outbox.add(callback.answer())
        await _make_invite(turn, new_role, scope, pressed_message(callback))
        return
    holder = await _target(turn, callback, data, settings)
    if holder is None:
        return
    turn.outbox.add(callback.answer())
    where = "" if new_role == Role.ADMIN else " (" + _scope_text(scope) + ")"
    turn.put(
        _("Give {name} the {role} role{where}?").format(
            name=_name(holder.name), role=_role_name(new_role).lower(), where=where
        ),
        kb.buttons_column(
            [
                (
                    "✅ " + _("Yes, change it"),
                    RoleCB(act="set", id=holder.person_id, r=data.r, v=data.v),
                ),
                ("⬅️ " + _("Back"), RoleCB(act="who", id=holder.person_id)),
            ]
        ),
        pressed_message(callback),
    )


def _refused(turn: Turn, callback: CallbackQuery, why: str | None) -> None:
    """What a refused role change says (operations.roles gives the reason)."""
    if why == "last_admin":
        log.warning("refused: the only admin tried to step down")
        text = _(
            "You are the only admin. Give someone else the admin role first, then you "
            "can step down."
        )
        turn.outbox.add(callback.answer(text, show_alert=True))
    elif why == "unchanged":
        turn.outbox.add(callback.answer(_("Already done.")))
    else:
        _refuse_forged(turn.outbox, callback, f"role change refused: {why}")


async def _act_set(turn: Turn, callback: CallbackQuery, data: RoleCB, settings: Settings) -> None:
    valid, scope = _scope_of(data.v)
    if data.r not in ROLE_OF or not valid:
        _refuse_forged(turn.outbox, callback, "a scope that does not exist")
        return
    new_role = ROLE_OF[data.r]
    scope = None if new_role == Role.ADMIN else scope
    holder = await _target(turn, callback, data, settings)
    if holder is None:
        return
    result = await operations.grant(
        turn.session, actor_id=turn.person.id, person_id=holder.person_id, role=new_role,
        regions=scope, now=utcnow(), via="peran", settings_admins=settings.admin_ids,
    )  # fmt: skip
    if not result.ok:
        _refused(turn, callback, result.refused)
        return
    turn.outbox.add(callback.answer(_("Done.")))
    await notices.deliver(turn.session, turn.outbox, result.notices)
    label = _in_locale(holder.locale, lambda: _("Staff desk"))
    if (button := desk_menu(settings, holder.telegram_id, new_role, label)) is not None:
        turn.outbox.add(button)
    text, markup = await _list_view(turn.session, settings)
    done = _("{name} now has the {role} role.").format(
        name=_name(holder.name), role=_role_name(new_role).lower()
    )
    turn.put("✅ " + done + "\n\n" + text, markup, pressed_message(callback))


async def _act_rev(turn: Turn, callback: CallbackQuery, data: RoleCB, settings: Settings) -> None:
    holder = await _target(turn, callback, data, settings)
    if holder is None:
        return
    if holder.role == Role.RETURNEE:
        turn.outbox.add(callback.answer(_("Already done.")))
        return
    turn.outbox.add(callback.answer())
    turn.put(
        _(
            "Remove the role of {name} ({role})? They become a returnee again and can no "
            "longer use its commands, from their very next message."
        ).format(name=_name(holder.name), role=_role_name(holder.role).lower()),
        kb.buttons_column(
            [
                ("🚫 " + _("Yes, remove the role"), RoleCB(act="revok", id=holder.person_id)),
                ("⬅️ " + _("No, keep it"), RoleCB(act="who", id=holder.person_id)),
            ]
        ),
        pressed_message(callback),
    )


async def _act_revok(turn: Turn, callback: CallbackQuery, data: RoleCB, settings: Settings) -> None:
    holder = await _target(turn, callback, data, settings)
    if holder is None:
        return
    if holder.role == Role.RETURNEE:
        turn.outbox.add(callback.answer(_("Already done.")))
        return
    result = await operations.revoke(
        turn.session, actor_id=turn.person.id, person_id=holder.person_id, now=utcnow(),
        via="peran", settings_admins=settings.admin_ids,
    )  # fmt: skip
    if not result.ok:
        _refused(turn, callback, result.refused)
        return
    turn.outbox.add(callback.answer(_("Done.")))
    await notices.deliver(turn.session, turn.outbox, result.notices)
    if (button := desk_menu(settings, holder.telegram_id, Role.RETURNEE)) is not None:
        turn.outbox.add(button)
    text, markup = await _list_view(turn.session, settings)
    done = _("The role of {name} was removed.").format(name=_name(holder.name))
    turn.put("✅ " + done + "\n\n" + text, markup, pressed_message(callback))


@notices.renders("role.granted")
async def _granted(_session: AsyncSession, _person: Person, args: dict) -> tuple[str, None]:
    """To someone given a role by someone else: what they can do now."""
    return _now_you_can(Role(args["role"]), args.get("regions")), None


@notices.renders("role.ended")
async def _ended(_session: AsyncSession, _person: Person, args: dict) -> tuple[str, None]:
    """To someone whose role someone else removed."""
    return t(ROLE_ENDED, role=_role_name(args.get("before", "")).lower()), None


# --- invitations -----------------------------------------------------------------------------


async def _make_invite(
    turn: Turn, role: Role, scope: list[str] | None, message: Message | None
) -> None:
    await repo.lock_person(turn.session, turn.person)  # a second tap waits, then finds it
    shown = await store.recent_invite(
        turn.session,
        created_by=turn.person.id,
        role=role,
        regions=scope,
        since=utcnow() - DOUBLE_TAP,
    )
    invite = shown or await operations.invite(
        turn.session, actor_id=turn.person.id, role=role, regions=scope, now=utcnow()
    )
    assert invite is not None  # the buttons offer only a role and a real scope
    link = f"https://t.me/{await _bot_username(turn)}?start=role-{invite.token}"
    zone = regions.zone_of(turn.person.province_code)
    where = "" if role == Role.ADMIN else " (" + _scope_text(invite.regions) + ")"
    text = (
        "🔗 "
        + _("An invitation link for a new {role}{where}:").format(
            role=_role_name(role).lower(), where=where
        )
        + f"\n\n<code>{html.escape(link)}</code>\n\n"
        + _(
            "It works once, for the first person who opens it, until {when}. Send it only to "
            "the person it is for. They will be asked to agree and fill in a short profile "
            "first if they are new."
        ).format(when=moment(invite.expires_at, zone))
    )
    turn.put(
        text,
        kb.buttons_column(
            [
                ("✖️ " + _("Cancel this link"), RoleCB(act="xinv", id=invite.id)),
                _back_to_list(),
            ]
        ),
        message,
    )


async def _act_xinv(turn: Turn, callback: CallbackQuery, data: RoleCB, settings: Settings) -> None:
    invite = await store.invite(turn.session, invite_id=data.id) if data.id else None
    if invite is None:
        _refuse_forged(turn.outbox, callback, "no such invitation")
        return
    done = await operations.cancel_invite(
        turn.session, actor_id=turn.person.id, invite_id=invite.id, now=utcnow()
    )
    if not done.ok:
        turn.outbox.add(
            callback.answer(_("That link was already used or cancelled."), show_alert=True)
        )
        return
    turn.outbox.add(callback.answer(_("Done.")))
    turn.put(
        _("The link was cancelled: it no longer works."),
        kb.buttons_column([_back_to_list()]),
        pressed_message(callback),
    )


_ACTS = {
    "list": _act_list,
    "who": _act_who,
    "role": _act_role,
    "sc": _act_sc,
    "pick": _act_pick,
    "set": _act_set,
    "rev": _act_rev,
    "revok": _act_revok,
    "xinv": _act_xinv,
}


@journeys.invite("role")
async def invited(turn: Turn, code: str) -> None:
    """`/start role-<token>` (after consent and the profile, for someone new): a valid link
    gives its role and regions to this person; a used, expired, cancelled or unknown one
    changes nothing."""
    person = turn.person
    if person.start_payload and person.start_payload.startswith("role-"):
        # The token is a secret: keep where they came from, not the key.
        await repo.update_person(turn.session, person, start_payload="role")
    if person.role == Role.ADMIN or turn.role == Role.ADMIN:
        turn.say(
            _(
                "You are already an admin, so this link was left unused. Pass it on to the "
                "person it is for."
            ),
            kb.main_menu(),
        )
        return
    taken = (
        await store.take_invite(turn.session, token=code, person_id=person.id)
        if TOKEN.match(code)
        else None
    )
    if taken is None:
        await _not_taken(turn, code)
        return
    new_role = Role(taken.role)
    await audit(
        turn.session,
        actor_id=person.id,
        action="role.invite_used",
        subject=f"invite:{taken.id}",
        details={"role": new_role.value, "regions": taken.regions, "person_id": person.id},
    )
    await operations.grant(
        turn.session, actor_id=taken.created_by, person_id=person.id, role=new_role,
        regions=taken.regions, now=utcnow(), via="invite", tell=False, invite_id=taken.id,
    )  # fmt: skip
    turn.say(_now_you_can(new_role, taken.regions), kb.main_menu())


async def _not_taken(turn: Turn, code: str) -> None:
    invite = await store.invite_by_token(turn.session, code) if TOKEN.match(code) else None
    mine = invite is not None and invite.used_by == turn.person.id and invite.used_at is not None
    if mine and turn.person.role in ROLE_NAMES:
        text = _("You already used this link. Your role is {role}.").format(
            role=_role_name(turn.person.role).lower()
        )
        reason = "used by the same person"
    elif invite is None:
        text = _(
            "I could not find that invitation link. It may be incomplete: please ask the admin "
            "who sent it for a new one."
        )
        reason = "unknown"
    elif invite.revoked_at is not None:
        text = _("That invitation link was cancelled. Please ask the admin for a new one.")
        reason = "cancelled"
    elif invite.used_at is not None:
        text = _(
            "That invitation link has already been used: each link works only once. Please "
            "ask the admin for a new one."
        )
        reason = "used"
    else:
        text = _("That invitation link has expired. Please ask the admin for a new one.")
        reason = "expired"
    log.info("a role invitation link was not taken: %s", reason)
    turn.say(text, kb.main_menu())


def router() -> Router:
    r = Router(name="roles")
    r.message.filter(IsCommand())
    r.message.register(command, Command("peran", "roles"))
    r.callback_query.register(pressed, RoleCB.filter())
    return r
