"""Typed callback data and keyboard builders; never hand-parsed callback strings."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Annotated

from aiogram.filters.callback_data import CallbackData
from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)
from aiogram.utils.i18n import gettext as _
from pydantic import Field

from bot.text import current_locale, label
from flows.engine import Option

# A row id in callback data can be forged: anything outside a database integer does not even
# parse (aiogram's filter then lets the press fall through to the fallback's friendly reply).
RowId = Annotated[int, Field(ge=0, le=2**31 - 1)]
Small = Annotated[int, Field(ge=0, le=10_000)]


class ConsentCB(CallbackData, prefix="c"):
    ok: bool
    p: str = ""


class FlowCB(CallbackData, prefix="f"):
    """A button inside a flow. It names the flow and step, not a run: it acts on the presser's
    own active run of that flow, and only while that run is still at that step."""

    flow: str
    step: str
    act: str  # pick | page | back | cancel | done
    v: str = ""


class AskCB(CallbackData, prefix="tq"):
    """A returnee's help-desk button: ask (Tanya petugas), stop asking, rate a closed ticket."""

    act: str  # ask | stop | rate
    id: RowId = 0
    v: Small = 0


class ResumeCB(CallbackData, prefix="r"):
    act: str  # continue | restart
    run: RowId


class MenuCB(CallbackData, prefix="m"):
    item: str


class LangCB(CallbackData, prefix="l"):
    code: str


class EraseCB(CallbackData, prefix="e"):
    ok: bool


MENU_ITEMS = (
    "coop", "kur", "training", "progress", "ask", "help", "language", "scam", "official",
)  # fmt: skip


# A button is a copy of this one with its text and data: our own well-typed values, never
# validated (validating a dozen buttons per reply was the largest single cost of rendering a
# step). Copying costs ~2 µs, model_construct ~18 µs (it resolves the dozen optional fields'
# defaults each time): a "Did you mean" reply has four buttons (bench/intents.py).
_BLANK_BUTTON = InlineKeyboardButton.model_construct(text="", callback_data="")


def _button(text: str, data: CallbackData) -> InlineKeyboardButton:
    return _BLANK_BUTTON.model_copy(update={"text": text, "callback_data": data.pack()})


def _rows(buttons: Sequence[InlineKeyboardButton], width: int) -> list[list[InlineKeyboardButton]]:
    return [list(buttons[i : i + width]) for i in range(0, len(buttons), width)]


def back_label() -> str:
    return "⬅️ " + _("Back")


def cancel_label() -> str:
    return "✖️ " + _("Cancel")


def consent(payload: str = "") -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                _button("✅ " + _("I agree"), ConsentCB(ok=True, p=payload)),
                _button(_("I do not agree"), ConsentCB(ok=False, p=payload)),
            ]
        ]
    )


def main_menu() -> InlineKeyboardMarkup:
    return _main_menu(current_locale())


@lru_cache(maxsize=8)
def _main_menu(locale: str) -> InlineKeyboardMarkup:
    texts = {
        "coop": "🤝 " + _("Cooperative"),
        "kur": "💰 " + _("KUR loan"),
        "training": "🎓 " + _("Training"),
        "progress": "📊 " + _("My progress"),
        "ask": "🙋 " + _("Ask a staff member"),
        "help": "❓ " + _("Help"),
        "language": "🌐 " + _("Language"),
        "scam": "🛡 " + _("Beware of scams"),
        "official": "☎️ " + _("Official help"),
    }
    return InlineKeyboardMarkup(
        inline_keyboard=_rows([_button(texts[i], MenuCB(item=i)) for i in MENU_ITEMS], 2)
    )


def languages() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [_button("Bahasa Indonesia", LangCB(code="id")), _button("English", LangCB(code="en"))]
        ]
    )


def resume(run_id: int, *, restart: bool = True) -> InlineKeyboardMarkup:
    row = [_button("▶️ " + _("Continue"), ResumeCB(act="continue", run=run_id))]
    if restart:
        row.append(_button("🔄 " + _("Start over"), ResumeCB(act="restart", run=run_id)))
    return InlineKeyboardMarkup(inline_keyboard=[row])


def erase() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                _button("🗑 " + _("Yes, delete"), EraseCB(ok=True)),
                _button(_("No, keep it"), EraseCB(ok=False)),
            ]
        ]
    )


def single(text: str, data: CallbackData) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[_button(text, data)]])


def buttons_column(buttons: Sequence[tuple[str, CallbackData]]) -> InlineKeyboardMarkup:
    """One button per row: (text, callback data) pairs, e.g. a list of cooperatives."""
    return InlineKeyboardMarkup(inline_keyboard=[[_button(text, data)] for text, data in buttons])


def buttons_grid(
    buttons: Sequence[tuple[str, CallbackData]], width: int = 2
) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=_rows([_button(text, data) for text, data in buttons], width)
    )


def step_options(
    *,
    flow: str,
    step: str,
    options: Sequence[Option],
    page: int,
    page_size: int,
    columns: int,
    can_go_back: bool,
    done_button: bool = False,
    chosen: Sequence[str] = (),
) -> InlineKeyboardMarkup:
    """Options of a step, a page at a time, then Back and Cancel.

    The same for everyone at the same place in a flow, so it is built once per language.
    """
    return _step_options(
        flow,
        step,
        tuple(options),
        page,
        page_size,
        columns,
        can_go_back,
        done_button,
        tuple(chosen),
        current_locale(),
    )


@lru_cache(maxsize=4096)
def _step_options(
    flow: str,
    step: str,
    options: tuple[Option, ...],
    page: int,
    page_size: int,
    columns: int,
    can_go_back: bool,
    done_button: bool,
    chosen: tuple[str, ...],
    locale: str,
) -> InlineKeyboardMarkup:
    def cb(act: str, v: str = "") -> FlowCB:
        return FlowCB(flow=flow, step=step, act=act, v=v)

    pages = max(1, -(-len(options) // page_size))
    page = min(max(page, 0), pages - 1)
    shown = options[page * page_size : (page + 1) * page_size]
    buttons = [
        _button(("☑️ " if o.value in chosen else "") + label(o), cb("pick", o.value)) for o in shown
    ]
    rows = _rows(buttons, columns)
    if pages > 1:
        nav = []
        if page > 0:
            nav.append(_button("◀️", cb("page", str(page - 1))))
        nav.append(_button(f"{page + 1}/{pages}", cb("page", str(page))))
        if page < pages - 1:
            nav.append(_button("▶️", cb("page", str(page + 1))))
        rows.append(nav)
    if done_button:
        rows.append([_button("✅ " + _("Done"), cb("done"))])
    last = [_button(back_label(), cb("back"))] if can_go_back else []
    last.append(_button(cancel_label(), cb("cancel")))
    rows.append(last)
    return InlineKeyboardMarkup(inline_keyboard=rows)


def share_phone(*, can_go_back: bool) -> ReplyKeyboardMarkup:
    return share("phone", can_go_back=can_go_back)


def share(what: str, *, can_go_back: bool) -> ReplyKeyboardMarkup:
    """A reply keyboard with Telegram's share-contact or send-location button ("phone" or
    "location"): inline buttons cannot ask for either."""
    nav = [KeyboardButton(text=back_label())] if can_go_back else []
    nav.append(KeyboardButton(text=cancel_label()))
    button = (
        KeyboardButton(text="📍 " + _("Send my location"), request_location=True)
        if what == "location"
        else KeyboardButton(text="📱 " + _("Share my number"), request_contact=True)
    )
    return ReplyKeyboardMarkup(
        keyboard=[[button], nav],
        resize_keyboard=True,
        one_time_keyboard=True,
    )
