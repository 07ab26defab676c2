"""Protection and official help: the "Waspada penipuan" page, shown from the menu and at the
moments that matter (before a bank visit, before paying a cooperative's simpanan, when someone
mentions a calo or an agent), and the official help page (KP2MI, the BP3MI by province, OJK,
Dinas Koperasi, NIB help, training, programmes). The facts are in flows/content/help.toml.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from functools import cache

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot import keyboards as kb
from bot.driver import Turn
from bot.text import t
from flows import regions
from flows.content import help as content
from flows.i18n import N_

# Why the scam page is shown at a moment (for the line above it); "menu": asked for.
BANK, JOIN, BROKER, RESULT = "bank", "join", "broker", "result"


@cache
def _broker_words() -> re.Pattern[str]:
    words = "|".join(sorted(content.helps().scam.triggers, key=len, reverse=True))
    return re.compile(rf"(?<![^\W\d_])(?:{words})(?![^\W\d_])", re.IGNORECASE)


def mentions_broker(text: str | None) -> bool:
    """Whether typed text names a calo, an agent, a makelar, a sponsor... (a whole word)."""
    return bool(text) and _broker_words().search(text or "") is not None


def fact_text(fact: content.Fact) -> str:
    return t(fact.text, **fact.values())


def sources(found: Iterable[content.Sourced]) -> str:
    """Where the facts come from; those from news sites with "check with the bank or office"."""
    official, other = [], []
    for fact in found:
        target = official if fact.official else other
        if fact.host not in target:
            target.append(fact.host)
    lines = []
    if official:
        lines.append(t("Sources: {sites}", sites=html.escape(", ".join(official))))
    if other:
        lines.append(
            t(
                "From news sites, so check with the bank or the office: {sites}",
                sites=html.escape(", ".join(other)),
            )
        )
    return "<i>" + "\n".join(lines) + "</i>" if lines else ""


# The line above the page when it comes at a moment rather than from the menu.
MOMENT = {
    BANK: N_("Before you go to a bank, please read this."),
    RESULT: N_("Before you go to a bank, please read this."),
    JOIN: N_("Before you pay any simpanan to a cooperative, please read this."),
    BROKER: N_("You mentioned a calo or an agent. Please read this first."),
}


def scam_text(moment: str | None = None) -> str:
    """The "Waspada penipuan" page, with the line that says why it is shown now."""
    scam = content.helps().scam
    parts = []
    if moment in MOMENT:
        parts.append(t(MOMENT[moment]))
    parts.append("🛡 <b>" + _("Beware of scams") + "</b>")
    parts.append("\n".join("• " + fact_text(w) for w in scam.warnings))
    parts.append(sources(scam.warnings))
    return "\n\n".join(p for p in parts if p)


def scam_markup() -> InlineKeyboardMarkup:
    return kb.buttons_column(
        [
            ("☎️ " + _("Official help"), kb.MenuCB(item="official")),
            ("🏠 " + _("Main menu"), kb.MenuCB(item="menu")),
        ]
    )


def show_scam(turn: Turn, moment: str | None = None) -> None:
    """The page as its own message; at a moment, without buttons (the flow goes on below)."""
    turn.say(scam_text(moment), scam_markup() if moment is None else None)


def bp3mi_text(province_code: str | None) -> str:
    """The BP3MI that serves the person's province, as far as the directory knows."""
    bp3mi = content.helps().bp3mi
    office = bp3mi.offices.get((province_code or "")[:2])
    if office is not None:
        return t(bp3mi.text, office=html.escape(office), **bp3mi.values())
    region = regions.get((province_code or "")[:2]) if province_code else None
    province = region.name if region is not None else _("your province")
    return t(bp3mi.none_text, province=html.escape(province), **bp3mi.values())


def help_texts(province_code: str | None) -> list[str]:
    """The official help page, in three short messages: whom to call, which office, which
    programme."""
    helps = content.helps()
    calls = [helps.kp2mi, helps.bp3mi, helps.ojk]
    offices = [helps.dinas_koperasi, helps.nib_help, helps.training]
    first = "\n\n".join(
        [
            "☎️ <b>" + _("Official help") + "</b>",
            "• " + fact_text(helps.kp2mi),
            "• " + bp3mi_text(province_code),
            "• " + fact_text(helps.ojk),
            sources(calls),
        ]
    )
    second = "\n\n".join(
        [
            "🏛 <b>" + _("Offices near you") + "</b>",
            *("• " + fact_text(f) for f in offices),
            sources(offices),
        ]
    )
    third = "\n\n".join(
        [
            "🤝 <b>" + _("Programmes that can help") + "</b>",
            *("• " + fact_text(p) for p in helps.programmes),
            sources(helps.programmes),
        ]
    )
    return [first, second, third]


def show_help(turn: Turn) -> None:
    """The official help page for the person's province."""
    texts = help_texts(turn.person.province_code)
    for text in texts[:-1]:
        turn.say(text)
    turn.say(
        texts[-1],
        kb.buttons_column(
            [
                ("🛡 " + _("Beware of scams"), kb.MenuCB(item="scam")),
                ("🏠 " + _("Main menu"), kb.MenuCB(item="menu")),
            ]
        ),
    )


def programme_text(key: str) -> str:
    """One programme where it helps, with where it comes from."""
    programme = content.helps().programme(key)
    return fact_text(programme) + "\n" + sources([programme])


def training_elsewhere(province_code: str | None) -> str:
    """When the bot has no session near the person: where else to find training."""
    helps = content.helps()
    village = helps.programme("desa_migran_emas")
    return "\n".join(
        [
            fact_text(helps.training),
            bp3mi_text(province_code),
            fact_text(village),
            sources([helps.training, helps.bp3mi, village]),
        ]
    )
