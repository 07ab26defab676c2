"""`juragan chat`: talk to the real dispatcher in a terminal, with no token and no network.

One process plays several people: `/as 2` becomes another returnee (created on first use),
`/as staff` (or `coordinator`, `admin`) someone with that role, `/as 1` the first again. What
the bot sends to the others is shown as it happens, with who gets it ("→ [2 Budi] …"), and
their buttons stay numbered for when you become them. Files the bot sends are saved under
`./demo-files/`; URL buttons print their URL.
"""

from __future__ import annotations

import asyncio
import html
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import parse_qs, urlsplit

from aiogram.methods import TelegramMethod
from aiogram.types import InlineKeyboardMarkup, InputFile, ReplyKeyboardMarkup
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import OFFLINE_TOKEN, App, build_app
from bot.config import Settings
from bot.offline import OfflineChat, OfflineSession
from flows import registry
from flows.engine import Kind
from storage import repo
from storage.models import Person, Role

HELP = (
    "Type as you would in Telegram. A number presses the button shown as [n], except where "
    "the question asks for a number: there it is your answer, and #n presses button [n]. "
    "'/as 2' becomes another person (created on first use), '/as staff' or "
    "'/as coordinator' or '/as admin' someone with that role, '/as 1' you again; '/as' lists "
    "them. '/open' opens the newest invitation link the bot showed (as tapping it would); "
    "'/contact' shares your phone number (or '/contact +62812...'); "
    "'/location' sends a place (Surabaya); '/sticker' sends a sticker; "
    "a line starting with '# ' is only printed (a note in a script); '/quit' leaves."
)
TAG = re.compile(r"<[^>]+>")
START_LINK = re.compile(r"https://t\.me/\w+\?start=([\w-]+)")
SURABAYA = (-7.2575, 112.7521)
NAMES = ("Siti", "Budi", "Made", "Dewi", "Agus", "Rina", "Joko", "Wati", "Yusuf", "Eko")
DEMO_USER = 100001  # `juragan chat`'s first person (its --user), as `make demo` runs it
# People with a role get their own Telegram ids, above the numbered people's.
ROLE_PEOPLE = {
    "staff": (1000, "Staf Demo"),
    "coordinator": (1001, "Koordinator Demo"),
    "admin": (1002, "Admin Demo"),
}
ROLE_COMMANDS = {
    "staff": "/tinjau (review), /tiket (questions), /ekspor (export), /statistik, /meja (desk)",
    "coordinator": "/siaran, /pelatihan_baru (a training), /tiket, /ekspor, /statistik, /meja",
    "admin": "/peran (roles), /audit, /tinjau, /tiket, /siaran, /ekspor, /statistik, /meja",
}
ALIASES = {"staf": "staff", "koordinator": "coordinator"}
MAX_PEOPLE = 999
NUMBER_KINDS = (Kind.NUMBER, Kind.MONEY)


def plain(text: str) -> str:
    """Telegram HTML as a terminal shows it: tags dropped, entities unescaped."""
    return html.unescape(TAG.sub("", text))


@dataclass
class Seat:
    """One person the console can be: their chat, name and the buttons they can press now."""

    handle: str  # "1", "2", "staff"
    chat: OfflineChat
    name: str
    role: str | None = None
    buttons: list[tuple[str, str, Any]] = field(default_factory=list)  # (kind, text, payload)
    fresh: bool = True  # the next buttons start at [1]: a new round of replies

    @property
    def tag(self) -> str:
        return f"[{self.handle} {self.name}]"


class Console:
    """Prints what the bot sends, to whom, and numbers each person's buttons; reads input."""

    def __init__(
        self,
        app: App,
        session: OfflineSession,
        out: TextIO,
        *,
        user_id: int,
        first_name: str = "Siti",
        language_code: str | None = "id",
        files_dir: Path | str = "demo-files",
        interactive: bool = False,
    ) -> None:
        self.app, self.session, self.out = app, session, out
        self.base_id, self.language_code = user_id, language_code
        self.files_dir = Path(files_dir)
        self.interactive = interactive
        self.seats: dict[str, Seat] = {}
        self.by_id: dict[int, Seat] = {}
        self.links: list[str] = []  # start payloads of t.me links the bot showed, newest last
        session.listeners.append(self.show)
        self.current = self._seat("1", user_id, first_name)

    @property
    def chat(self) -> OfflineChat:
        return self.current.chat

    @property
    def buttons(self) -> list[tuple[str, str, Any]]:
        return self.current.buttons

    def print(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def _seat(self, handle: str, telegram_id: int, name: str, role: str | None = None) -> Seat:
        chat = OfflineChat(
            self.app.bot,
            self.app.dp,
            self.session,
            telegram_id,
            first_name=name.split()[0],
            language_code=self.language_code,
        )
        seat = Seat(handle, chat, name, role)
        self.seats[handle] = seat
        self.by_id[telegram_id] = seat
        return seat

    def _handle_of(self, telegram_id: int) -> str | None:
        """Which console person has this Telegram id ("2", "staff"), if any."""
        offset = telegram_id - self.base_id
        if 0 <= offset < MAX_PEOPLE:
            return str(offset + 1)
        return next((h for h, (o, _name) in ROLE_PEOPLE.items() if o == offset), None)

    def _new_seat(self, handle: str) -> Seat:
        if handle in ROLE_PEOPLE:
            offset, name = ROLE_PEOPLE[handle]
            return self._seat(handle, self.base_id + offset, name, role=handle)
        n = int(handle)
        name = NAMES[n - 1] if n <= len(NAMES) else f"Orang {n}"
        return self._seat(handle, self.base_id + n - 1, name)

    async def _seat_of(self, telegram_id: int | None) -> Seat | None:
        """The console person a message is for; one not yet seen in this process (made in an
        earlier run of the demo) becomes one now, so their buttons wait for `/as`."""
        if telegram_id is None:
            return None
        seat = self.by_id.get(telegram_id)
        handle = self._handle_of(telegram_id) if seat is None else None
        if handle is not None and handle not in self.seats:
            seat = self._new_seat(handle)
            await self.names()
        return seat

    # --- what the bot sends ----------------------------------------------------------------

    async def show(self, method: TelegramMethod[Any], result: Any) -> None:
        name = type(method).__name__
        if name == "AnswerCallbackQuery":  # the alert of the person who pressed: the console
            if getattr(method, "text", None):
                self.print(f"  (!) {plain(method.text)}")  # type: ignore[attr-defined]
            return
        if name not in ("SendMessage", "EditMessageText", "SendDocument", "SendPhoto"):
            return
        chat_id = getattr(method, "chat_id", None)
        seat = self.current if chat_id is None else await self._seat_of(_int(chat_id))
        text = getattr(method, "text", None) or getattr(method, "caption", None) or ""
        self.links += START_LINK.findall(text)
        edited = " (edited)" if name == "EditMessageText" else ""
        if seat is self.current:
            prefix = "bot" + edited
        else:  # someone else gets it: say who, as it happens
            prefix = "→ " + (seat.tag if seat is not None else f"[#{chat_id}]") + edited
        indent = " " * 5
        self.print(f"\n{prefix}: " + plain(text).replace("\n", "\n" + indent))
        if name in ("SendDocument", "SendPhoto"):
            await self._save(getattr(method, "document", None) or getattr(method, "photo", None))
        markup = getattr(method, "reply_markup", None)
        if isinstance(markup, InlineKeyboardMarkup):
            pressable = []
            for row in markup.inline_keyboard:
                for b in row:
                    if b.url or (b.web_app is not None):
                        url = b.url or b.web_app.url  # type: ignore[union-attr]
                        self.links += _start_payloads(url)
                        self.print(f"{indent}🔗 {b.text}: {url}")
                    elif b.callback_data is not None:
                        pressable.append(("inline", b.text, (b.callback_data, result)))
            self._number(seat, pressable)
        elif isinstance(markup, ReplyKeyboardMarkup):
            self._number(
                seat,
                [
                    (
                        "contact"
                        if b.request_contact
                        else "location"
                        if b.request_location
                        else "reply",
                        b.text,
                        (b.text, None),
                    )
                    for row in markup.keyboard
                    for b in row
                ],
            )

    def _number(self, seat: Seat | None, buttons: list[tuple[str, str, Any]]) -> None:
        """Number buttons on from the last message of the same round, so every keyboard the bot
        just sent a person stays pressable (a question above the menu, say)."""
        if not buttons:
            return
        if seat is None:  # nobody the console can be: shown, not pressable
            self.print("     " + "  ".join(f"[{text}]" for _kind, text, _p in buttons))
            return
        if seat.fresh:
            seat.buttons, seat.fresh = [], False
        first = len(seat.buttons) + 1
        seat.buttons = seat.buttons + buttons
        line = "  ".join(f"[{i}] {text}" for i, (_kind, text, _p) in enumerate(buttons, first))
        self.print("     " + line)

    async def _save(self, file: Any) -> None:
        """A file the bot sent, saved under files_dir with its own name (never overwriting)."""
        if not isinstance(file, InputFile):
            self.print(f"     📎 a file Telegram already has ({str(file)[:24]}), not saved")
            return
        data = b"".join([chunk async for chunk in file.read(self.app.bot)])
        self.files_dir.mkdir(parents=True, exist_ok=True)
        name = Path(file.filename or "file").name
        path, n = self.files_dir / name, 2
        while path.exists():
            path = self.files_dir / f"{Path(name).stem}-{n}{Path(name).suffix}"
            n += 1
        path.write_bytes(data)
        self.print(f"     📎 saved {path}")

    # --- what the person types --------------------------------------------------------------

    async def handle(self, line: str) -> bool:
        """One line of input; False to stop."""
        line = line.rstrip("\n")
        word = line.strip()
        if word in ("/quit", "/exit"):
            return False
        if line.startswith("# "):
            self.print(line)  # a note in a script
            return True
        if word == "/as" or word.startswith("/as "):
            await self.switch(word.removeprefix("/as").strip())
            return True
        for seat in self.seats.values():
            seat.fresh = True
        if word == "/open":
            if not self.links:
                self.print("  (!) the bot has shown no invitation link yet")
                return True
            word = line = f"/start {self.links[-1]}"
            self.print(f"you: {line}")
        pressed = None
        if re.fullmatch(r"#\d+", word):
            pressed = int(word[1:])
        elif word.isdigit() and not await self.expects_number():
            pressed = int(word)
        if pressed is not None and 1 <= pressed <= len(self.buttons):
            await self._press(self.buttons[pressed - 1])
        elif word.startswith("#") and pressed is not None:
            self.print(f"  (!) there is no button [{pressed}]")
        elif line.startswith("/contact"):
            number = line.removeprefix("/contact").strip() or "+6281234567890"
            await self.chat.share_contact(number)
        elif word == "/location":
            await self.chat.share_location(*SURABAYA)
        elif word == "/sticker":
            await self.chat.sticker()
        else:
            await self.chat.send(line)
        return True

    async def _press(self, button: tuple[str, str, Any]) -> None:
        kind, text, (payload, message) = button
        self.print(f"you: [{text}]")
        if kind == "inline":
            await self.chat.press_data(payload, message)
        elif kind == "contact":
            await self.chat.share_contact("+6281234567890")
        elif kind == "location":
            await self.chat.share_location(*SURABAYA)
        else:
            await self.chat.send(text)

    async def expects_number(self, seat: Seat | None = None) -> bool:
        """Does the question this person is at take a number (an amount, months, years)?"""
        seat = seat or self.current
        async with self.app.sessionmaker() as session:
            _person, run = await repo.person_and_active_run(session, telegram_id=seat.chat.user.id)
        if run is None or run.flow not in registry.FLOWS:
            return False
        try:
            step = registry.get(run.flow).step(run.step)
        except KeyError:
            return False
        return step.kind in NUMBER_KINDS or step.typed in NUMBER_KINDS

    async def hint(self) -> None:
        """Under a question that takes a number, say how to press a button instead."""
        if self.buttons and await self.expects_number():
            self.print("     (a number you type is the answer here; #1 presses button [1])")

    # --- being someone else ------------------------------------------------------------------

    async def switch(self, handle: str) -> None:
        """`/as 2`, `/as staff`: become that person (made on first use); `/as`: who is who."""
        handle = ALIASES.get(handle.lower(), handle.lower())
        handle = str(int(handle)) if handle.isdigit() else handle  # "/as 02" is "/as 2"
        if not handle:
            for seat in self.seats.values():
                role = f" ({seat.role})" if seat.role else ""
                here = "  ← you" if seat is self.current else ""
                self.print(f"  {seat.tag}{role} Telegram id {seat.chat.user.id}{here}")
            return
        seat = self.seats.get(handle)
        new = seat is None
        if seat is None:
            if (handle.isdigit() and 1 <= int(handle) <= MAX_PEOPLE) or handle in ROLE_PEOPLE:
                seat = self._new_seat(handle)
            else:
                self.print(
                    f"  (!) '/as {handle}': use a number (1 to {MAX_PEOPLE}), "
                    "staff, coordinator or admin"
                )
                return
        if handle in ROLE_PEOPLE:  # made with the role, and given it back if it was taken
            await grant(
                self.app.sessionmaker, seat.chat.user.id, handle, seat.name, self.language_code
            )
        await self.names()
        self.current = seat
        role = f", {seat.role}" if seat.role else ""
        self.print(f"\n— you are now {seat.tag}{role} (Telegram id {seat.chat.user.id})")
        if new and handle in ROLE_PEOPLE:
            self.print(f"     try {ROLE_COMMANDS[handle]}")
        elif new and self.interactive:
            await self.handle("/start")
        elif seat.buttons:
            line = "  ".join(f"[{i}] {text}" for i, (_k, text, _p) in enumerate(seat.buttons, 1))
            self.print("     " + line)

    async def names(self) -> None:
        """Each person's name as their profile has it, once they gave one."""
        ids = list(self.by_id)
        async with self.app.sessionmaker() as session:
            rows = await session.execute(
                select(Person.telegram_id, Person.name).where(Person.telegram_id.in_(ids))
            )
            for telegram_id, name in rows:
                if name:
                    self.by_id[int(telegram_id)].name = name


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _start_payloads(url: str) -> list[str]:
    """Start payloads in a link: a t.me start link itself, or one inside a share link."""
    found = START_LINK.findall(url)
    for inner in parse_qs(urlsplit(url).query).get("url", []):
        found += START_LINK.findall(inner)
    return found


async def grant(
    sessionmaker: async_sessionmaker[AsyncSession],
    telegram_id: int,
    role: str,
    name: str,
    locale: str | None,
) -> int:
    """A console person with a role: made on first use (consent given, a short profile in
    Kota Surabaya, so they can work at once), the role set and audited when it changes; their
    person id. `juragan desk-link --demo` makes the demo's admin with it too."""
    from bot.handlers.start import CONSENT_PURPOSE, CONSENT_VERSION
    from storage import broadcasts
    from storage.models import utcnow

    async with sessionmaker() as session, session.begin():
        person = await repo.person_by_telegram_id(session, telegram_id=telegram_id)
        if person is None:
            person = await repo.create_person_if_new(
                session, telegram_id=telegram_id, locale=locale or "id"
            )
            assert person is not None
            await repo.give_consent(
                session, person=person, purpose=CONSENT_PURPOSE, text_version=CONSENT_VERSION
            )
            await repo.update_person(
                session,
                person,
                name=name,
                province_code="35",
                regency_code="35.78",
                onboarded_at=utcnow(),
            )
        if person.role == Role(role).value:
            return person.id
        await repo.set_role(session, person_id=person.id, role=Role(role).value, regions=None)
        await broadcasts.audit(
            session,
            actor_id=None,
            action="role.set",
            subject=f"person:{person.id}",
            details={"role": role, "regions": None, "by": "console"},
        )
        return person.id


async def _set_role(app: Any, user_id: int, role: str | None) -> None:
    """`--as staff` etc.: give the console person a role (they must have consented first)."""
    if not role:
        return
    from sqlalchemy import update

    async with app.sessionmaker() as session, session.begin():
        await session.execute(
            update(Person).where(Person.telegram_id == user_id).values(role=Role(role).value)
        )


async def run_console(
    settings: Settings,
    *,
    user_id: int,
    role: str | None,
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
    files_dir: Path | str = "demo-files",
) -> None:
    # One local person typing (or a piped script): flood control would only get in the way.
    settings = settings.model_copy(update={"flood_limit": 1_000_000})
    if role == "admin":
        settings = settings.model_copy(
            update={"admin_ids": frozenset({*settings.admin_ids, user_id})}
        )
    session = OfflineSession()
    app = build_app(settings, session=session, token=OFFLINE_TOKEN)
    interactive = stdin.isatty()
    console = Console(
        app,
        session,
        stdout,
        user_id=user_id,
        language_code=settings.default_locale,
        files_dir=files_dir,
        interactive=interactive,
    )
    console.print("Pulang Juragan, offline console. " + HELP)
    staff_role = role if role in ("staff", "coordinator") else None
    if role:
        console.current.role = role
    await _set_role(app, user_id, staff_role)
    try:
        await console.names()  # someone from an earlier run of the demo: their name
        if interactive:
            await console.handle("/start")
        while True:
            if interactive:
                stdout.write(f"\n{console.current.tag} you> ")
                stdout.flush()
            line = await asyncio.to_thread(stdin.readline)
            if not line:
                break
            if not interactive and line.strip() and not line.startswith("# "):
                console.print(f"\n{console.current.tag} you> {line.strip()}")
            if line.strip() and not await console.handle(line):
                break
            await app.sender.drain()  # an announcement sent here goes out (to the sample people)
            await _set_role(app, user_id, staff_role)
            await console.names()
            await console.hint()
    finally:
        await app.close()
