"""/siaran: a coordinator writes an announcement, picks who gets it, sees how many and a
preview, then sends it now or at a time in their own zone; Pause, Resume and Cancel on the
live progress message.

The draft is a `broadcasts` row (status draft), so nothing typed is lost across a restart. A
draft waiting for typed input (the text, a button, a time) says so in its `stage`; while it
does, the coordinator's next message goes here before any flow. A command is never taken as
input: it ends the waiting (the draft is kept) and, but for /batal, runs as anywhere else. Every command and button
checks the role on the server, and that the broadcast is the presser's own (an admin may act
on any); a refused press only logs.
"""

from __future__ import annotations

import html
import logging
import re
import unicodedata
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import Command, Filter
from aiogram.methods import SendDocument, SendMessage, SendPhoto
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from babel.dates import format_timedelta
from sqlalchemy.ext.asyncio import AsyncSession

from bot import keyboards as kb
from bot import roles
from bot.broadcasts import (
    CAPTION_LIMIT,
    FOOTER_ROOM,
    TEXT_LIMIT,
    BroadcastCB,
    body,
    link_markup,
    segment_label,
    status_view,
)
from bot.config import Settings
from bot.driver import Turn
from bot.handlers.common import pressed_message, turn_for
from bot.outbox import Outbox
from bot.text import BABEL_LOCALES, current_locale, moment, number, t, utf16_len
from flows import clock, regions, registry
from flows import reminders as rules
from flows import segments as specs
from flows.errors import Invalid
from flows.validators import date_id, time_of_day, visible
from operations.broadcasts import (
    control,
    estimated_cost,
    paid_sending,
    regions_now,
    send_broadcast,
)
from storage import broadcasts as store
from storage import segments as reach
from storage.models import Broadcast, BroadcastStatus, Person, Role

log = logging.getLogger(__name__)

CONTENT, BUTTON_TEXT, BUTTON_URL, WHEN = "content", "button_text", "button_url", "when"
BUTTON_TEXT_MAX = 40
URL_MAX = 300
SCHEDULE_AHEAD = timedelta(days=60)  # the furthest a broadcast can be scheduled
PAGE = 8
_URL = re.compile(r"https?://[^\s/$.?#][^\s]*", re.IGNORECASE)


def _can(role: Role | str | None) -> bool:
    return roles.can(role, "broadcast")


_scope = roles.scope
_in_scope = roles.in_scope


def _tz(person: Person) -> str:
    return regions.zone_of(person.province_code)


# --- the draft card --------------------------------------------------------------------------


async def _count(session: AsyncSession, draft: Broadcast) -> int:
    return await reach.count(session, draft.segment, draft.regions)


async def card(turn: Turn, draft: Broadcast) -> tuple[str, InlineKeyboardMarkup]:
    """The draft as the coordinator sees it, with everything they can do next."""
    people = await _count(turn.session, draft)
    label = await segment_label(turn.session, draft.segment)
    media = (
        _("a photo") if draft.photo_file_id else _("a document") if draft.document_file_id else None
    )
    lines = [
        "📝 " + _("Draft announcement #{id}").format(id=draft.id),
        "",
        _("For: {segment}").format(segment=label),
        _("People it reaches now: {n}").format(n=number(people)),
    ]
    if draft.regions is not None:
        names = ", ".join(html.escape(regions.display_name(c)) for c in draft.regions)
        lines.append(_("Only inside your regions: {regions}").format(regions=names))
    if media:
        lines.append(_("With {media}").format(media=media))
    if draft.button_text and draft.button_url:
        lines.append(
            _("Link button: “{text}” → {url}").format(
                text=html.escape(draft.button_text), url=html.escape(draft.button_url)
            )
        )
    lines += ["", _("The text:"), draft.text or "—"]
    if people == 0:
        lines += ["", "⚠️ " + _("Nobody can receive it yet: choose other people.")]
    i = draft.id
    rows: list[tuple[str, BroadcastCB]] = [
        ("✏️ " + _("Change the text"), BroadcastCB(act="text", id=i)),
        ("👥 " + _("Choose who gets it"), BroadcastCB(act="seg", id=i)),
        (
            ("🔗 " + _("Remove the link button"), BroadcastCB(act="nobtn", id=i))
            if draft.button_url
            else ("🔗 " + _("Add a link button"), BroadcastCB(act="btn", id=i))
        ),
        ("👁 " + _("Preview"), BroadcastCB(act="prev", id=i)),
    ]
    markup = kb.buttons_column(rows)
    if people:
        markup.inline_keyboard.append(
            [
                kb._button("▶️ " + _("Send now"), BroadcastCB(act="now", id=i)),
                kb._button("🕒 " + _("Schedule"), BroadcastCB(act="when", id=i)),
            ]
        )
    markup.inline_keyboard.append([kb._button("🗑 " + _("Discard"), BroadcastCB(act="drop", id=i))])
    return "\n".join(lines), markup


async def _show_card(turn: Turn, draft_id: int, pressed: Message | None = None) -> None:
    draft = await store.get(turn.session, draft_id)
    if draft is None or draft.status != BroadcastStatus.DRAFT:
        turn.say(_("That draft was sent or discarded. Send /siaran to write a new one."))
        return
    text, markup = await card(turn, draft)
    turn.put(text, markup, pressed)


def _ask_content(turn: Turn) -> None:
    turn.say(
        _(
            "Write the announcement as people should see it. Bold, italics and links work. "
            "You can also send one photo or one document with the text as its caption.\n\n"
            "At most {long} characters, or {short} with a photo or document. Send /batal to "
            "stop; the draft is kept."
        ).format(long=number(TEXT_LIMIT - FOOTER_ROOM), short=number(CAPTION_LIMIT - FOOTER_ROOM))
    )


# --- /siaran ---------------------------------------------------------------------------------


async def command(
    message: Message,
    session: AsyncSession,
    person: Person | None,
    outbox: Outbox,
    role: Role = Role.RETURNEE,
) -> None:
    """/siaran: continue the draft there is, or begin one."""
    if not roles.gate(outbox, "broadcast", person, role, message=message):
        return
    turn = turn_for(message, session=session, person=person, outbox=outbox, role=role)
    draft = await store.open_draft(session, author_id=person.id)
    if draft is not None and draft.text:
        text, markup = await card(turn, draft)
        markup.inline_keyboard.append(
            [kb._button("🆕 " + _("Start a new one instead"), BroadcastCB(act="new", id=draft.id))]
        )
        turn.say(_("You have a draft. Continue it, or start a new one.") + "\n\n" + text, markup)
        return
    if draft is None:
        await _new_draft(turn)
    else:
        await store.edit_draft(session, draft.id, stage=CONTENT)
    _ask_content(turn)


async def _new_draft(turn: Turn) -> int:
    """A new draft for everyone inside the author's scope, waiting for its text."""
    draft_id = await store.create_draft(
        turn.session,
        author_id=turn.person.id,
        text="",
        segment={"kind": specs.ALL},
        regions=_scope(turn.person, turn.role),
    )
    await store.edit_draft(turn.session, draft_id, stage=CONTENT)
    return draft_id


class Composing(Filter):
    """A coordinator's message while their draft waits for typed input: hands on `draft`."""

    async def __call__(
        self,
        message: Message,
        session: AsyncSession | None = None,
        person: Person | None = None,
        role: Role = Role.RETURNEE,
    ) -> bool | dict[str, Any]:
        if person is None or session is None or not _can(role):
            return False
        draft = await store.waiting_for_input(session, author_id=person.id)
        return {"draft": draft} if draft is not None else False


async def typed(
    message: Message,
    draft: Broadcast,
    session: AsyncSession,
    person: Person,
    outbox: Outbox,
    role: Role = Role.RETURNEE,
    settings: Settings | None = None,
) -> None:
    """What the draft waits for: the text (or a photo or document with it), the button's
    label, its link, or a time."""
    turn = turn_for(message, session=session, person=person, outbox=outbox, role=role)
    command = _command(message)
    if command is not None:  # a command keeps its meaning; the draft stops waiting, kept
        await store.edit_draft(session, draft.id, stage=None)
        if command not in _OWN_COMMANDS:
            turn.say(_("Your draft is kept: send /siaran to go on with it."))
        if command not in _STOP_COMMANDS:
            raise SkipHandler  # the command's own handler answers it, as anywhere else
        turn.say(_("Stopped. Your draft is kept: send /siaran to go on with it."))
        return
    stage = draft.stage
    if stage == CONTENT:
        await _content(turn, message, draft)
    elif stage == BUTTON_TEXT:
        label = (message.text or "").strip()
        if not visible(label) or len(label) > BUTTON_TEXT_MAX or _has_control(label):
            turn.say(
                _("Please type a short label for the button, at most {n} characters.").format(
                    n=BUTTON_TEXT_MAX
                )
            )
            return
        await store.edit_draft(
            session, draft.id, button_text=label, button_url=None, stage=BUTTON_URL
        )
        turn.say(_("Now the link it opens, starting with https://"))
    elif stage == BUTTON_URL:
        url = (message.text or "").strip()
        if len(url) > URL_MAX or not _URL.fullmatch(url) or _has_control(url):
            turn.say(_("That is not a link. Please type one starting with https://"))
            return
        await store.edit_draft(session, draft.id, button_url=url, stage=None)
        await _show_card(turn, draft.id)
    elif stage == WHEN:
        when = _parse_when(message.text or "", _tz(person))
        if isinstance(when, str):
            turn.say(when)
            return
        await store.edit_draft(session, draft.id, stage=None)
        await _confirm_schedule(turn, draft.id, when, settings=settings)
    else:  # an unknown stage (a newer version wrote it): start the card over
        await store.edit_draft(session, draft.id, stage=None)
        await _show_card(turn, draft.id)


def _has_control(value: str) -> bool:
    """A control character (a line break, NUL, ...): never in a button's label or link."""
    return any(unicodedata.category(ch) == "Cc" for ch in value)


async def _content(turn: Turn, message: Message, draft: Broadcast) -> None:
    photo = message.photo[-1].file_id if message.photo else None
    document = message.document.file_id if message.document else None
    if photo or document:
        plain, text = message.caption or "", message.html_text if message.caption else ""
        limit = CAPTION_LIMIT - FOOTER_ROOM
    elif message.text is not None:
        plain, text, limit = message.text, message.html_text, TEXT_LIMIT - FOOTER_ROOM
    else:
        turn.say(_("Please send the announcement as text, or as a photo or document with text."))
        return
    # NUL is invisible, and PostgreSQL cannot store it in text (the draft failed with an error)
    plain, text = plain.replace("\x00", ""), text.replace("\x00", "")
    if not visible(plain):  # spaces or zero-width characters only: nothing to read
        turn.say(
            _("The announcement needs some text: what is it about, and what should people do?")
        )
        return
    if utf16_len(plain) > limit:  # as Telegram counts: an emoji is two
        turn.say(
            _("That is {n} characters; at most {limit} fit. Please shorten it.").format(
                n=number(utf16_len(plain)), limit=number(limit)
            )
        )
        return
    await store.edit_draft(
        turn.session,
        draft.id,
        text=text,
        photo_file_id=photo,
        document_file_id=document,
        stage=None,
    )
    await _show_card(turn, draft.id)


_STOP_COMMANDS = frozenset({"batal", "cancel"})  # stop composing, as they stop a flow
_OWN_COMMANDS = _STOP_COMMANDS | {"siaran", "broadcast"}  # they say where the draft is


def _command(message: Message) -> str | None:
    """The command a message is ("batal" for "/batal@bot now"), or None for anything else;
    a caption is never a command (Telegram sends none with media)."""
    text = message.text or ""
    if not text.startswith("/"):
        return None
    return text[1:].split(maxsplit=1)[0].split("@", 1)[0].lower() if len(text) > 1 else ""


def _parse_when(raw: str, tz: str) -> datetime | str:
    """A date and time typed in the coordinator's zone ("besok 08.00", "30/11/2026 19.00"),
    as UTC; or the message saying what is wrong."""
    words = raw.strip().split()
    now = clock.now()
    today = clock.today(ZoneInfo(tz))
    found: datetime | None = None
    for k in (1, 2, 3):
        if len(words) <= k:
            break
        try:
            hhmm = time_of_day(" ".join(words[-k:]))
            day = date_id(" ".join(words[:-k]), today=today)
        except Invalid:
            continue
        found = clock.at(day.isoformat(), hhmm, tz)
        break
    if found is None:
        return _("Please type a date and a time, like “besok 08.00” or “30/11/2026 19.00”.")
    if found <= now + timedelta(minutes=1):
        return _("That time has passed. Please choose a time in the future.")
    if found > now + SCHEDULE_AHEAD:
        return _("Please choose a time within the next 60 days.")
    if rules.is_quiet(found, tz):
        return _("That is at night, when people sleep. Please choose a time in the day.")
    return found.astimezone(UTC)


async def _cost(turn: Turn, draft: Broadcast, settings: Settings | None) -> str:
    """The paid sending line of a confirmation ("" when paid broadcasts are off)."""
    if settings is None:
        return ""
    paid = paid_sending(
        on=settings.paid_broadcast,
        rate=settings.paid_broadcast_rate,
        stars_per_message=settings.paid_broadcast_stars,
    )
    cost = await estimated_cost(turn.session, broadcast_id=draft.id, paid=paid)
    if cost is None:
        return ""
    span = format_timedelta(
        timedelta(seconds=max(1.0, cost.seconds)),
        locale=BABEL_LOCALES.get(current_locale(), "id_ID"),
    )
    return "💫 " + _(
        "Fast paid sending is on: {rate} messages a second, about {time}. Telegram takes at "
        "most {stars} Stars from the bot's balance for it ({price} Stars a message above "
        "the free limit of about 30 a second)."
    ).format(
        rate=number(round(cost.rate)),
        time=span,
        stars=number(cost.stars),
        price=number(cost.stars_per_message),
    )


async def _confirm_schedule(
    turn: Turn,
    draft_id: int,
    when: datetime,
    pressed: Message | None = None,
    settings: Settings | None = None,
) -> None:
    draft = await store.get(turn.session, draft_id)
    if draft is None or draft.status != BroadcastStatus.DRAFT:
        turn.say(_("That draft was sent or discarded. Send /siaran to write a new one."))
        return
    people = await _count(turn.session, draft)
    text = _(
        "Schedule announcement #{id} for {when}? It goes to the people in the group then "
        "(now: {n})."
    ).format(id=draft.id, when=moment(when, _tz(turn.person)), n=number(people))
    cost = await _cost(turn, draft, settings)
    if cost:
        text += "\n" + cost
    stamp = str(int(when.timestamp()))
    turn.put(
        text,
        kb.buttons_column(
            [
                ("✅ " + _("Yes, schedule it"), BroadcastCB(act="at", id=draft.id, v=stamp)),
                ("⬅️ " + _("Back to the draft"), BroadcastCB(act="card", id=draft.id)),
            ]
        ),
        pressed,
    )


# --- buttons ---------------------------------------------------------------------------------


async def pressed(
    callback: CallbackQuery,
    callback_data: BroadcastCB,
    session: AsyncSession,
    person: Person | None,
    outbox: Outbox,
    settings: Settings,
    role: Role = Role.RETURNEE,
) -> None:
    """Every compose and control button. The role is checked first, then that the broadcast
    exists and is the presser's (an admin's: anyone's), then that it is in the right state."""
    if person is None or not _can(role):
        roles.refuse(outbox, "broadcast", role, callback=callback)
        return
    data = callback_data
    broadcast = await store.get(session, data.id)
    if broadcast is None or (broadcast.author_id != person.id and role != Role.ADMIN):
        log.warning("refused broadcast button %r on another's broadcast", data.act)
        outbox.add(callback.answer(_("That announcement is not yours."), show_alert=True))
        return
    scope = _scope(person, role)
    if (
        broadcast.status == BroadcastStatus.DRAFT
        and broadcast.author_id == person.id
        and regions_now(broadcast.regions, scope) != broadcast.regions
    ):  # the author's regions changed since the draft began: it reaches only today's
        await store.edit_draft(session, broadcast.id, regions=regions_now(broadcast.regions, scope))
        broadcast = await store.get(session, broadcast.id)
        assert broadcast is not None
    turn = turn_for(callback, session=session, person=person, outbox=outbox, role=role)
    message = pressed_message(callback)
    if data.act in ("pause", "resume", "stop", "stopok"):
        await _control(turn, callback, broadcast, data, message, settings)
        return
    if broadcast.status != BroadcastStatus.DRAFT:
        outbox.add(callback.answer(_("That draft was sent or discarded."), show_alert=True))
        return
    outbox.add(callback.answer())
    handler = _DRAFT_ACTS.get(data.act)
    if handler is None:
        log.warning("unknown broadcast button %r", data.act)
        return
    await handler(turn, broadcast, data, message, settings=settings)


async def _act_card(
    turn: Turn,
    draft: Broadcast,
    data: BroadcastCB,
    message: Message | None,
    settings: Settings | None = None,
) -> None:
    await store.edit_draft(turn.session, draft.id, stage=None)
    await _show_card(turn, draft.id, message)


async def _act_new(
    turn: Turn,
    draft: Broadcast,
    data: BroadcastCB,
    message: Message | None,
    settings: Settings | None = None,
) -> None:
    if not await store.set_status(turn.session, draft.id, BroadcastStatus.CANCELLED):
        return  # a double tap: the other press made the new draft
    await _new_draft(turn)
    _ask_content(turn)


async def _act_text(
    turn: Turn,
    draft: Broadcast,
    data: BroadcastCB,
    message: Message | None,
    settings: Settings | None = None,
) -> None:
    await store.edit_draft(turn.session, draft.id, stage=CONTENT)
    _ask_content(turn)


async def _act_btn(
    turn: Turn,
    draft: Broadcast,
    data: BroadcastCB,
    message: Message | None,
    settings: Settings | None = None,
) -> None:
    await store.edit_draft(turn.session, draft.id, stage=BUTTON_TEXT)
    turn.say(
        _("Type the label of the button, e.g. “Daftar di sini” (at most {n} characters).").format(
            n=BUTTON_TEXT_MAX
        )
    )


async def _act_nobtn(
    turn: Turn,
    draft: Broadcast,
    data: BroadcastCB,
    message: Message | None,
    settings: Settings | None = None,
) -> None:
    await store.edit_draft(turn.session, draft.id, button_text=None, button_url=None, stage=None)
    await _show_card(turn, draft.id, message)


async def _act_drop(
    turn: Turn,
    draft: Broadcast,
    data: BroadcastCB,
    message: Message | None,
    settings: Settings | None = None,
) -> None:
    await store.set_status(turn.session, draft.id, BroadcastStatus.CANCELLED)
    turn.put(_("Draft discarded. Send /siaran to write a new one."), None, message)


async def _act_prev(
    turn: Turn,
    draft: Broadcast,
    data: BroadcastCB,
    message: Message | None,
    settings: Settings | None = None,
) -> None:
    """The announcement exactly as a recipient in the coordinator's language gets it."""
    from aiogram.utils.i18n import I18n

    text = body(draft, current_locale(), I18n.get_current())
    markup = link_markup(draft)
    turn.say("👁 " + _("Preview: this is how people will see it."))
    if draft.photo_file_id:
        turn.outbox.add(
            SendPhoto(
                chat_id=turn.chat_id, photo=draft.photo_file_id, caption=text, reply_markup=markup
            )
        )
    elif draft.document_file_id:
        turn.outbox.add(
            SendDocument(
                chat_id=turn.chat_id,
                document=draft.document_file_id,
                caption=text,
                reply_markup=markup,
            )
        )
    else:
        turn.outbox.add(SendMessage(chat_id=turn.chat_id, text=text, reply_markup=markup))
    text, markup = await card(turn, draft)
    turn.say(text, markup)


async def _act_now(
    turn: Turn,
    draft: Broadcast,
    data: BroadcastCB,
    message: Message | None,
    settings: Settings | None = None,
) -> None:
    people = await _count(turn.session, draft)
    lines = [
        _("Send announcement #{id} now? People it reaches: {n}.").format(
            id=draft.id, n=number(people)
        ),
        _("People who already got the weekly limit of announcements are left out."),
    ]
    if rules.is_quiet(clock.now(), _tz(turn.person)):
        lines.append(
            "🌙 " + _("It is night now. Many people sleep: consider scheduling it for the morning.")
        )
    cost = await _cost(turn, draft, settings)
    if cost:
        lines.append(cost)
    turn.put(
        "\n".join(lines),
        kb.buttons_column(
            [
                ("✅ " + _("Yes, send it now"), BroadcastCB(act="go", id=draft.id)),
                ("🕒 " + _("Schedule instead"), BroadcastCB(act="when", id=draft.id)),
                ("⬅️ " + _("Back to the draft"), BroadcastCB(act="card", id=draft.id)),
            ]
        ),
        message,
    )


async def _act_go(
    turn: Turn,
    draft: Broadcast,
    data: BroadcastCB,
    message: Message | None,
    settings: Settings | None = None,
) -> None:
    """Start sending: the deliveries are written now; this message becomes the progress."""
    assert settings is not None
    done = await send_broadcast(
        turn.session,
        broadcast_id=draft.id,
        author_id=turn.person.id,
        now=clock.now(),
        scope=_scope(turn.person, turn.role),
        any_author=turn.role == Role.ADMIN,
        cap_per_week=settings.announcement_weekly_cap or None,
    )
    if not done.ok:
        return
    started = await store.get(turn.session, draft.id)
    assert started is not None
    counts = await store.progress(turn.session, draft.id)
    text, markup = status_view(
        started, counts, rate=settings.broadcast_rate, locale=current_locale()
    )
    if message is not None:
        await store.set_progress_message(
            turn.session, draft.id, chat_id=turn.chat_id, message_id=message.message_id
        )
        turn.put(text, markup, message)
    else:
        turn.say(text, markup)


async def _act_when(
    turn: Turn,
    draft: Broadcast,
    data: BroadcastCB,
    message: Message | None,
    settings: Settings | None = None,
) -> None:
    await store.edit_draft(turn.session, draft.id, stage=WHEN)
    tz = _tz(turn.person)
    tomorrow = (clock.today(ZoneInfo(tz)) + timedelta(days=1)).isoformat()
    quick = [(hh, clock.at(tomorrow, hh, tz)) for hh in ("08:00", "16:00")]
    buttons = [
        ("🕒 " + moment(at, tz), BroadcastCB(act="quick", id=draft.id, v=str(int(at.timestamp()))))
        for _hh, at in quick
        if at is not None
    ]
    buttons.append(("⬅️ " + _("Back to the draft"), BroadcastCB(act="card", id=draft.id)))
    turn.put(
        _(
            "When should it go out? Type a date and time in your zone ({zone}), like "
            "“besok 08.00” or “30/11/2026 19.00”, or choose:"
        ).format(zone=_zone_label(tz)),
        kb.buttons_column(buttons),
        message,
    )


def _zone_label(tz: str) -> str:
    from bot.text import ZONE_LABELS

    return ZONE_LABELS.get(tz, tz)


def _when_of(data: BroadcastCB) -> datetime | None:
    """A time from button data, which can be forged: only a sane future moment."""
    if not data.v.isdigit() or len(data.v) > 12:
        return None
    when = datetime.fromtimestamp(int(data.v), tz=clock.now().tzinfo)
    now = clock.now()
    if when <= now or when > now + SCHEDULE_AHEAD:
        return None
    return when


async def _act_quick(
    turn: Turn,
    draft: Broadcast,
    data: BroadcastCB,
    message: Message | None,
    settings: Settings | None = None,
) -> None:
    when = _when_of(data)
    if when is None:
        await _act_when(turn, draft, data, message, settings)
        return
    await store.edit_draft(turn.session, draft.id, stage=None)
    await _confirm_schedule(turn, draft.id, when, message, settings)


async def _act_at(
    turn: Turn,
    draft: Broadcast,
    data: BroadcastCB,
    message: Message | None,
    settings: Settings | None = None,
) -> None:
    when = _when_of(data)
    if when is None or rules.is_quiet(when, _tz(turn.person)):
        await _act_when(turn, draft, data, message, settings)
        return
    done = await send_broadcast(
        turn.session,
        broadcast_id=draft.id,
        author_id=turn.person.id,
        now=clock.now(),
        scope=_scope(turn.person, turn.role),
        any_author=turn.role == Role.ADMIN,
        at=when,
    )
    if not done.ok:
        return
    if message is not None:
        await store.set_progress_message(
            turn.session, draft.id, chat_id=turn.chat_id, message_id=message.message_id
        )
    turn.put(
        _("🕒 Announcement #{id} will go out on {when}. You will see its progress here.").format(
            id=draft.id, when=moment(when, _tz(turn.person))
        ),
        kb.single("✖️ " + _("Cancel it"), BroadcastCB(act="stop", id=draft.id)),
        message,
    )


# --- choosing who gets it ----------------------------------------------------------------------


async def _act_seg(
    turn: Turn,
    draft: Broadcast,
    data: BroadcastCB,
    message: Message | None,
    settings: Settings | None = None,
) -> None:
    i = draft.id
    turn.put(
        _("Who should get it? Only people who accepted announcements ever do."),
        kb.buttons_column(
            [
                ("👥 " + _("Everyone"), BroadcastCB(act="set", id=i, v="all")),
                ("📍 " + _("By province or regency"), BroadcastCB(act="prov", id=i)),
                ("🧭 " + _("By journey and step"), BroadcastCB(act="jrn", id=i)),
                ("💡 " + _("By interest"), BroadcastCB(act="int", id=i)),
                ("🤝 " + _("By cooperative"), BroadcastCB(act="pick", id=i, v="cooperative")),
                (
                    "🏗 " + _("Founders of a planned cooperative"),
                    BroadcastCB(act="pick", id=i, v="founding"),
                ),
                ("🎓 " + _("By training session"), BroadcastCB(act="pick", id=i, v="training")),
                ("⬅️ " + _("Back to the draft"), BroadcastCB(act="card", id=i)),
            ]
        ),
        message,
    )


def _paged(
    items: list[tuple[str, BroadcastCB]], *, page: int, more: BroadcastCB | None, back: BroadcastCB
) -> InlineKeyboardMarkup:
    rows = list(items)
    if more is not None:
        rows.append(("➡️ " + _("More"), more))
    rows.append(("⬅️ " + _("Back"), back))
    return kb.buttons_column(rows)


async def _act_prov(
    turn: Turn,
    draft: Broadcast,
    data: BroadcastCB,
    message: Message | None,
    settings: Settings | None = None,
) -> None:
    """Provinces (inside the coordinator's scope), then a whole province or one regency."""
    scope = draft.regions
    i = draft.id
    if data.v and regions.get(data.v) is not None and "." not in data.v:
        province = data.v
        choices = []
        if _in_scope(province, scope):
            choices.append(("📍 " + _("All of {name}").format(name=regions.display_name(province)),
                            BroadcastCB(act="set", id=i, v=f"r_{province}")))  # fmt: skip
        inside = [r for r in regions.regencies(province) if _in_scope(r.code, scope)]
        start = data.p * PAGE
        for r in inside[start : start + PAGE]:
            choices.append((r.name, BroadcastCB(act="set", id=i, v=f"r_{r.code}")))
        more = (
            BroadcastCB(act="prov", id=i, v=province, p=data.p + 1)
            if start + PAGE < len(inside)
            else None
        )
        turn.put(
            _("Which part of {name}?").format(name=regions.display_name(province)),
            _paged(choices, page=data.p, more=more, back=BroadcastCB(act="prov", id=i)),
            message,
        )
        return
    provinces = [p for p in regions.provinces() if regions.reaches(p.code, scope)]
    start = data.p * 12
    shown = provinces[start : start + 12]
    markup = kb.buttons_grid(
        [(p.name, BroadcastCB(act="prov", id=i, v=p.code)) for p in shown], width=2
    )
    if start + 12 < len(provinces):
        markup.inline_keyboard.append(
            [kb._button("➡️ " + _("More"), BroadcastCB(act="prov", id=i, p=data.p + 1))]
        )
    markup.inline_keyboard.append([kb._button("⬅️ " + _("Back"), BroadcastCB(act="seg", id=i))])
    turn.put(_("Which province?"), markup, message)


JOURNEYS = {"coop": "🤝", "kur": "💰", "training": "🎓"}


def _steps_of(journey: str) -> list[tuple[str, str, str]]:
    """A journey's steps as its buttons list them: "KUR: documents not complete" first (what
    coordinators ask for most), then every step in flow order. Buttons carry the index."""
    steps = [s for s in specs.journey_steps() if s[0] == journey]
    return sorted(steps, key=lambda s: s[1] != specs.KUR_DOCUMENTS_INCOMPLETE)


async def _act_jrn(
    turn: Turn,
    draft: Broadcast,
    data: BroadcastCB,
    message: Message | None,
    settings: Settings | None = None,
) -> None:
    """Journeys, then the steps of one: people standing at that step now."""
    i = draft.id
    if data.v in JOURNEYS:
        steps = _steps_of(data.v)
        start = data.p * PAGE
        items = []
        for n, (_journey, flow_key, step_key) in enumerate(steps[start : start + PAGE], start):
            if flow_key == specs.KUR_DOCUMENTS_INCOMPLETE:
                label = _("KUR: documents not complete yet")
            else:
                flow = registry.get(flow_key)
                prompt = t(flow.step(step_key).prompt).split("\n")[0]
                label = f"{t(flow.title)}: {prompt}"
            items.append((label[:60], BroadcastCB(act="set", id=i, v=f"s_{n}_{data.v}")))
        more = (
            BroadcastCB(act="jrn", id=i, v=data.v, p=data.p + 1)
            if start + PAGE < len(steps)
            else None
        )
        turn.put(
            _("People who stopped at which step?"),
            _paged(items, page=data.p, more=more, back=BroadcastCB(act="jrn", id=i)),
            message,
        )
        return
    names = {"coop": _("Cooperative"), "kur": _("KUR loan"), "training": _("Training")}
    turn.put(
        _("Which journey?"),
        kb.buttons_column(
            [(f"{JOURNEYS[j]} {names[j]}", BroadcastCB(act="jrn", id=i, v=j)) for j in JOURNEYS]
            + [("⬅️ " + _("Back"), BroadcastCB(act="seg", id=i))]
        ),
        message,
    )


async def _act_int(
    turn: Turn,
    draft: Broadcast,
    data: BroadcastCB,
    message: Message | None,
    settings: Settings | None = None,
) -> None:
    i = draft.id
    turn.put(
        _("People who said they want first…"),
        kb.buttons_column(
            [
                ("🤝 " + _("a cooperative"), BroadcastCB(act="set", id=i, v="g_coop")),
                ("💰 " + _("a KUR loan"), BroadcastCB(act="set", id=i, v="g_kur")),
                ("🎓 " + _("training"), BroadcastCB(act="set", id=i, v="g_training")),
                ("⬅️ " + _("Back"), BroadcastCB(act="seg", id=i)),
            ]
        ),
        message,
    )


PICKS = {"cooperative": "c", "founding": "f", "training": "t"}


async def _act_pick(
    turn: Turn,
    draft: Broadcast,
    data: BroadcastCB,
    message: Message | None,
    settings: Settings | None = None,
) -> None:
    """Cooperatives, founding plans or sessions that reach someone, most people first."""
    if data.v not in PICKS:
        return
    i = draft.id
    found = await reach.targets(
        turn.session, data.v, within_regions=draft.regions, limit=PAGE + 1, offset=data.p * PAGE
    )
    items = [
        (f"{name[:40]} ({number(n)})", BroadcastCB(act="set", id=i, v=f"{PICKS[data.v]}_{ref}"))
        for ref, name, n in found[:PAGE]
    ]
    more = BroadcastCB(act="pick", id=i, v=data.v, p=data.p + 1) if len(found) > PAGE else None
    title = (
        _("Nobody who accepted announcements is linked to one yet.")
        if not items and data.p == 0
        else _("Choose one (the number of people it reaches now):")
    )
    turn.put(
        title, _paged(items, page=data.p, more=more, back=BroadcastCB(act="seg", id=i)), message
    )


def _segment_of(value: str, scope: list[str] | None) -> specs.Segment | None:
    """The segment a "set" button names; None for forged or out-of-scope data."""
    try:
        if value == "all":
            return specs.Segment(kind=specs.ALL)
        kind, _sep, rest = value.partition("_")
        if kind == "r":
            if regions.get(rest) is None or not _in_scope(rest, scope):
                return None
            return specs.Segment(kind=specs.REGION, region=rest)
        if kind == "g":
            return specs.Segment(kind=specs.INTEREST, goal=rest)
        if kind == "s":
            index, _sep, journey = rest.partition("_")
            steps = _steps_of(journey)
            if not index.isdigit() or int(index) >= len(steps):
                return None
            _j, flow_key, step_key = steps[int(index)]
            if flow_key == specs.KUR_DOCUMENTS_INCOMPLETE:
                return specs.Segment(kind=specs.JOURNEY_STEP, flow=flow_key)
            return specs.Segment(kind=specs.JOURNEY_STEP, flow=flow_key, step=step_key)
        if kind in ("c", "f", "t") and rest.isdigit() and 0 < int(rest) < 2**31:
            field = {"c": "cooperative_id", "f": "founding_id", "t": "training_id"}[kind]
            seg_kind = specs.TRAINING if kind == "t" else specs.COOPERATIVE
            return specs.Segment(kind=seg_kind, **{field: int(rest)})
    except ValueError:
        return None
    return None


async def _act_set(
    turn: Turn,
    draft: Broadcast,
    data: BroadcastCB,
    message: Message | None,
    settings: Settings | None = None,
) -> None:
    spec = _segment_of(data.v, draft.regions)
    if spec is not None:  # a cooperative, founding plan or session: it must be in reach too
        exists, where = await reach.target_place(turn.session, spec)
        named = spec.cooperative_id or spec.founding_id or spec.training_id
        if not exists or (named and not roles.may(turn.person, turn.role, "broadcast", where)):
            spec = None
    if spec is None:
        log.warning("refused a segment button outside the coordinator's reach")
        turn.outbox.add(SendMessage(chat_id=turn.chat_id, text=_("You cannot send to that group.")))
        return
    await store.edit_draft(turn.session, draft.id, segment=spec, stage=None)
    await _show_card(turn, draft.id, message)


_DRAFT_ACTS = {
    "card": _act_card,
    "new": _act_new,
    "text": _act_text,
    "btn": _act_btn,
    "nobtn": _act_nobtn,
    "drop": _act_drop,
    "prev": _act_prev,
    "now": _act_now,
    "go": _act_go,
    "when": _act_when,
    "quick": _act_quick,
    "at": _act_at,
    "seg": _act_seg,
    "prov": _act_prov,
    "jrn": _act_jrn,
    "int": _act_int,
    "pick": _act_pick,
    "set": _act_set,
}


# --- pause, resume, cancel ---------------------------------------------------------------------


async def _control(
    turn: Turn,
    callback: CallbackQuery,
    broadcast: Broadcast,
    data: BroadcastCB,
    message: Message | None,
    settings: Settings,
) -> None:
    outbox = turn.outbox
    if data.act == "stop":
        outbox.add(callback.answer())
        turn.put(
            _("Cancel announcement #{id}? Nobody who has not got it yet will get it.").format(
                id=broadcast.id
            ),
            kb.buttons_column(
                [
                    ("✖️ " + _("Yes, cancel it"), BroadcastCB(act="stopok", id=broadcast.id)),
                    ("⬅️ " + _("No, go on"), BroadcastCB(act="resume", id=broadcast.id, v="view")),
                ]
            ),
            message,
        )
        return
    changed = False
    if data.v != "view":
        done = await control(
            turn.session,
            broadcast_id=broadcast.id,
            act={"pause": "pause", "resume": "resume", "stopok": "cancel"}[data.act],
            actor_id=turn.person.id,
            any_author=turn.role == Role.ADMIN,
        )
        changed = done.ok
    if not changed and data.v != "view":
        outbox.add(callback.answer(_("Already done.")))
    if changed or data.v == "view":
        outbox.add(callback.answer())
    now = await store.get(turn.session, broadcast.id)
    assert now is not None
    counts = await store.progress(turn.session, broadcast.id)
    rate = settings.broadcast_rate
    text, markup = status_view(now, counts, rate=rate, locale=current_locale())
    turn.put(text, markup, message)


def router() -> Router:
    """Typed input for a waiting draft comes before every other router (see handlers)."""
    r = Router(name="broadcast")
    r.message.register(typed, Composing())
    r.message.register(command, Command("siaran", "broadcast"))
    r.callback_query.register(pressed, BroadcastCB.filter())
    return r
