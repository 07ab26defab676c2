"""Notices from the operations layer, rendered for Telegram and put in the outbox.

An operation (operations/) says who is told what: `Notice(to=person id, message=id, args)`.
Here each message id has one renderer, `(session, person, args) -> (text, markup)`, run in the
person's own language (the caller's locale is set aside while it runs). `deliver` turns a list
of notices into sendMessage calls in the update's outbox, so they go out after the commit,
like the replies. A person deleted or blocked since is skipped, and a notice without a
renderer is a programming error (tests/bot/test_notices.py checks every id has one).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from aiogram.methods import SendMessage
from aiogram.utils.i18n import I18n
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.outbox import Outbox
from operations.notices import Notice
from storage.models import Person

log = logging.getLogger(__name__)

Rendered = tuple[str, Any]  # text (HTML), reply_markup or None
Renderer = Callable[[AsyncSession, Person, dict[str, Any]], Awaitable[Rendered | None]]
RENDERERS: dict[str, Renderer] = {}


def renders(message: str) -> Callable[[Renderer], Renderer]:
    """Register the renderer of one message id (a renderer returning None sends nothing)."""

    def register(fn: Renderer) -> Renderer:
        if message in RENDERERS:
            raise RuntimeError(f"two renderers for notice {message!r}")
        RENDERERS[message] = fn
        return fn

    return register


async def render(session: AsyncSession, person: Person, notice: Notice) -> Rendered | None:
    """The notice in the person's language (their profile's, else the default)."""
    renderer = RENDERERS[notice.message]
    i18n = I18n.get_current()
    locale = person.locale if person.locale in i18n.available_locales else i18n.default_locale
    with i18n.use_locale(locale):
        return await renderer(session, person, dict(notice.args))


async def deliver(session: AsyncSession, outbox: Outbox, notices: Iterable[Notice]) -> None:
    notices = list(notices)
    if not notices:
        return
    ids = {n.to for n in notices}
    people = {
        p.id: p for p in (await session.scalars(select(Person).where(Person.id.in_(ids)))).all()
    }
    for notice in notices:
        person = people.get(notice.to)
        if person is None or person.blocked_at is not None:
            continue
        rendered = await render(session, person, notice)
        if rendered is None:
            continue
        text, markup = rendered
        outbox.add(SendMessage(chat_id=person.telegram_id, text=text, reply_markup=markup))
