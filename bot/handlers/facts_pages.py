"""Short fact pages a typed question leads to (issue 18): what KUR is, what an NIB is, the
cooperative savings. (The scams to watch for and the official contacts are the pages of
bot/protection.py, from flows/content/help.toml.)

Written from /work/shared/DOMAIN.md section 0 (checked December 2026). They are here, in one
module, until the content data of issue 15 holds such pages; then `PAGES` should read from it.
Each page says what is true and humble ("check with the bank"), never promises anything, and
ends with buttons to the journey it is about and the main menu.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aiogram.filters.callback_data import CallbackData
from aiogram.utils.i18n import gettext as _

from bot import keyboards as kb
from bot.driver import Turn
from bot.handlers import kur
from bot.text import number, rupiah_text, t
from flows.content import kur as facts
from flows.i18n import N_

AS_OF = N_("As of December 2026. Rules change every year: check with the bank or office.")

KUR_IS = N_(
    "KUR (Kredit Usaha Rakyat) is a bank loan for micro and small businesses, with interest "
    "the government helps pay."
)
# The second message of the KUR page; {banks}: the lenders kur.toml confirms.
KUR_APPLY = N_(
    "A returnee's own business applies like any small business (KUR Penempatan PMI is only "
    "for the costs of going abroad). You apply at the lender itself ({banks}, and regional "
    "banks: ask there). KUR has <b>no fee</b>: anyone who asks for money to \u201carrange\u201d "
    "a KUR is a calo. The bank decides; nobody can promise approval."
)
WHAT_IS_NIB = N_(
    "🪪 <b>What is an NIB?</b>\n\n"
    "The NIB (Nomor Induk Berusaha) is your business's identity number. It is <b>free</b>: "
    "you get it yourself at oss.go.id or in the OSS app, with your NIK, an e-mail address and "
    "a phone number. For a low-risk business it often comes within minutes.\n\n"
    "Banks accept an NIB (or a Surat Keterangan Usaha from the village office) for a KUR. "
    "For a loan above {limit} an NPWP is needed too.\n\n"
    "Help in person: the one-stop service office (DPMPTSP) or the Mal Pelayanan Publik of your "
    "regency."
)
SAVINGS = N_(
    "🤝 <b>Cooperative savings</b>\n\n"
    "• <b>Simpanan pokok</b>: paid <b>once</b>, when you join; the same for every member.\n"
    "• <b>Simpanan wajib</b>: paid regularly (for example each month); it may differ between "
    "members.\n\n"
    "Neither can be taken out while you are a member. The amounts are set by the "
    "cooperative's statutes (AD/ART) and members' meeting.\n\n"
    "Before you pay, check the cooperative is real: its legal-entity (badan hukum) number, its "
    "NIK Koperasi and the date of its last annual meeting (RAT). Ask for a receipt."
)
PERSON = N_("🙋 To talk to a person, these official services answer questions:")


@dataclass(frozen=True)
class Page:
    text: str  # msgid
    buttons: Callable[[], list[tuple[str, CallbackData]]]
    lead: str | None = None  # msgid of a line above the text
    more: tuple[str, ...] = ()  # msgids of paragraphs after the text (a page over one message)
    build: Callable[[], list[str]] | None = None  # the page's messages, built from content data


def kur_texts() -> list[str]:
    """What KUR is, with the schemes' ceilings, the rate and the lenders as flows/content/kur.toml
    states them (an unconfirmed figure is never named), their source, and how to apply."""
    stated = []
    lines = ["🏦 <b>" + _("What is KUR?") + "</b>", t(KUR_IS)]
    if facts.RULES.one_rate.confirmed and facts.RULES.one_rate.percent is not None:
        lines.append(
            t(
                "Since 1 January 2026 every KUR loan, also a second or a third, has the same "
                "rate: {rate}%.",
                rate=number(facts.RULES.one_rate.percent),
            )
        )
        stated.append(facts.RULES.one_rate)
    schemes = []
    for scheme in (facts.SUPER_MIKRO, facts.MIKRO, facts.KECIL):
        line = f"• <b>{scheme.name}</b>: " + t(
            "up to {amount}", amount=rupiah_text(scheme.max_amount)
        )
        if scheme.first_kur_only:
            line += ". " + _("Only for someone who has never had a KUR.")
        schemes.append(line)
        stated.append(scheme.entry.ceiling)
    lines.append("\n".join(schemes))
    lines.append(kur.cite(stated))
    banks = ", ".join(bank.fact.name for bank in facts.BANKS)
    return ["\n\n".join(lines), t(KUR_APPLY, banks=banks)]


def _menu() -> tuple[str, CallbackData]:
    return "🏠 " + _("Main menu"), kb.MenuCB(item="menu")


def _journey(item: str, text: str) -> tuple[str, CallbackData]:
    return text, kb.MenuCB(item=item)


PAGES: dict[str, Page] = {
    "fact_kur": Page(
        KUR_IS,
        lambda: [_journey("kur", "💰 " + _("KUR loan")), _menu()],
        build=lambda: kur_texts(),
    ),
    "fact_nib": Page(WHAT_IS_NIB, lambda: [_journey("kur", "💰 " + _("KUR loan")), _menu()]),
    "fact_savings": Page(SAVINGS, lambda: [_journey("coop", "🤝 " + _("Cooperative")), _menu()]),
}


def show(turn: Turn, key: str) -> None:
    """Send the page `key` (one of PAGES) with its buttons (a longer page as several messages,
    split between paragraphs by `turn.say`, the buttons under the last)."""
    page = PAGES[key]
    if page.build is not None:
        built = page.build()
        for text in built[:-1]:
            turn.say(text)
        turn.say(built[-1], kb.buttons_column(page.buttons()))
        return
    parts = [t(page.lead)] if page.lead else []
    limit = rupiah_text(facts.NPWP_ABOVE)
    parts += [t(page.text, limit=limit), *(t(more) for more in page.more)]
    parts.append("<i>" + t(AS_OF) + "</i>")
    turn.say("\n\n".join(parts), kb.buttons_column(page.buttons()))
