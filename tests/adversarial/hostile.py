"""What an attacker or a careless user sends: hostile strings, every kind of update Telegram
delivers, and forged button data for every CallbackData class the bot defines."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aiogram.filters.callback_data import CallbackData
from aiogram.types import (
    CallbackQuery,
    Chat,
    ChatInviteLink,
    ChatJoinRequest,
    ChatMemberLeft,
    ChatMemberMember,
    ChatMemberUpdated,
    ChosenInlineResult,
    Contact,
    Dice,
    Document,
    InaccessibleMessage,
    InlineQuery,
    Location,
    Message,
    MessageEntity,
    MessageReactionCountUpdated,
    MessageReactionUpdated,
    PhotoSize,
    Poll,
    PollAnswer,
    PollOption,
    PreCheckoutQuery,
    ReactionCount,
    ReactionTypeEmoji,
    ShippingAddress,
    ShippingQuery,
    Sticker,
    Update,
    Venue,
    Voice,
)
from hypothesis import strategies as st

from bot.offline import BOT_USER, OfflineChat

CANARY = "Siti Aminah NIK 3578014101900001 HP 081234567890"
# What must never reach a log line: the canary's parts (the phone also without its 0, as a
# normalised +62 number holds it), and the token of the in-process bot.
CANARY_VALUES = ("Siti Aminah", "3578014101900001", "81234567890", "1:offline")

INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u200e", "\u200f"]
HOSTILE_TEXTS = [
    "",
    " ",
    "\t\n  \n",
    *INVISIBLE,
    "".join(INVISIBLE),
    "\u200b \u200b",
    "x" * 5000,
    "ي" * 4097,
    "😀" * 2100,  # 4,200 UTF-16 units
    "<b>",
    "</i>",
    "<b>tebal</i>",
    "&",
    "&amp; &lt; &nbsp; &#0; &#xD800;",
    "<script>alert(1)</script>",
    '<a href="javascript:alert(1)">x</a>',
    "a < b > c & d",
    "🇮🇩👩‍👩‍👧‍👦🧕🏽",
    "\u202eRTL \u0627\u0644\u0639\u0631\u0628\u064a\u0629 \u202c",
    "\x00",
    "Siti\x00Aminah",
    CANARY,
    "1",
    "0",
    "-1",
    "99999999999999999999999",
    "31/12/9999",
    "00/00/0000",
    "24.00",
    "1e309",
    "NaN",
    "%s %d {name} {0} %(x)s",
    "'; DROP TABLE people; --",
    "../../etc/passwd",
    "https://t.me/pulang_juragan_bot?start=f-xxxx",
]
COMMANDS = [
    "/start",
    "/start r-forged",
    "/start f-" + "x" * 60,
    "/menu",
    "/batal",
    "/help",
    "/progres",
    "/pengingat",
    "/profil",
    "/bahasa",
    "/datasaya",
    "/hapusdata",
    "/berhenti",
    "/langganan",
    "/siaran",
    "/pelatihan_baru",
    "/tinjau",
    "/ekspor",
    "/statistik",
    "/peran",
    "/audit",
    "/start@pulang_juragan_bot",
    "/tidakada",
]
hostile_text = st.one_of(
    st.sampled_from(HOSTILE_TEXTS),
    st.text(max_size=60),
    st.text(alphabet=st.sampled_from(["<", ">", "&", ";", "/", "b", "#", *INVISIBLE]), max_size=20),
)


# --- every update kind -----------------------------------------------------------------------

_STICKER = Sticker(
    file_id="CAACAgIAAxk", file_unique_id="AgAD", type="regular", width=512, height=512,
    is_animated=False, is_video=False,
)  # fmt: skip
_FILE = {"file_id": "BQACAgIAAxkD", "file_unique_id": "AgADBQAD"}


def _now() -> datetime:
    return datetime.now(UTC)


def message_kinds(text: str) -> dict[str, Callable[[OfflineChat], dict[str, Any]]]:
    """Message contents by name; each builds the Message fields for a person's chat."""
    return {
        "text": lambda c: {"text": text or "?"},
        "command_entity": lambda c: {
            "text": "/start " + text,
            "entities": [MessageEntity(type="bot_command", offset=0, length=6)],
        },
        "sticker": lambda c: {"sticker": _STICKER},
        "photo": lambda c: {
            "photo": [PhotoSize(**_FILE, width=90, height=90)],
            "caption": text[:1024] or None,
        },
        "document": lambda c: {
            "document": Document(**_FILE, file_name=(text or "f")[:60] + ".csv"),
            "caption": text[:1024] or None,
        },
        "voice": lambda c: {"voice": Voice(**_FILE, duration=3)},
        "contact_own": lambda c: {
            "contact": Contact(
                phone_number="+6281234567890", first_name=text[:60] or "S", user_id=c.user.id
            )
        },
        "contact_other": lambda c: {
            "contact": Contact(
                phone_number="081234567890", first_name="Siti Aminah", user_id=c.user.id + 7
            )
        },
        "contact_junk": lambda c: {
            "contact": Contact(phone_number=text[:40] or "x", first_name="x", user_id=c.user.id)
        },
        "location": lambda c: {"location": Location(latitude=-7.25, longitude=112.75)},
        "location_bad": lambda c: {"location": Location(latitude=91.0, longitude=-181.0)},
        "venue": lambda c: {
            "venue": Venue(
                location=Location(latitude=-7.25, longitude=112.75),
                title=text[:60] or "x",
                address="Jl. X",
            ),
            "location": Location(latitude=-7.25, longitude=112.75),
        },
        "poll": lambda c: {
            "poll": Poll(
                id="p1",
                question="?",
                options=[PollOption(persistent_id="o1", text="a", voter_count=0)],
                total_voter_count=0,
                is_closed=False,
                is_anonymous=True,
                type="regular",
                allows_multiple_answers=False,
                allows_revoting=False,
                members_only=False,
            )
        },  # fmt: skip
        "dice": lambda c: {"dice": Dice(emoji="🎲", value=6)},
        "forwarded_text": lambda c: {"text": text or "?", "forward_date": _now()},
        "reply_to_bot": lambda c: {
            "text": text or "?",
            "reply_to_message": Message(
                message_id=1, date=_now(), chat=c.chat, from_user=BOT_USER, text="..."
            ),
        },
    }


def _group(c: OfflineChat) -> Chat:
    return Chat(id=-1001234567890, type="supergroup", title="Grup PMI")


def update_kinds(text: str) -> dict[str, Callable[[OfflineChat], dict[str, Any]]]:
    """Update fields by name (besides update_id): every kind Telegram delivers to a bot."""

    def message(c: OfflineChat, **fields: Any) -> Message:
        return c._message(**fields)

    def member_update(c: OfflineChat, chat: Chat, new_status: str) -> ChatMemberUpdated:
        old = ChatMemberLeft(user=BOT_USER)
        new = (
            ChatMemberMember(user=BOT_USER)
            if new_status == "member"
            else ChatMemberLeft(user=BOT_USER)
        )
        return ChatMemberUpdated(
            chat=chat, from_user=c.user, date=_now(), old_chat_member=old, new_chat_member=new
        )

    def as_message(
        build: Callable[[OfflineChat], dict[str, Any]],
    ) -> Callable[[OfflineChat], dict[str, Any]]:
        return lambda c: {"message": message(c, **build(c))}

    kinds: dict[str, Callable[[OfflineChat], dict[str, Any]]] = {
        f"message:{name}": as_message(build) for name, build in message_kinds(text).items()
    }
    kinds.update(
        {
            "edited_message": lambda c: {
                "edited_message": message(c, text=text or "?", edit_date=int(_now().timestamp()))
            },
            "channel_post": lambda c: {
                "channel_post": Message(
                    message_id=5,
                    date=_now(),
                    chat=Chat(id=-1009876543210, type="channel", title="Kanal"),
                    text=text or "/datasaya",
                )
            },  # fmt: skip
            "edited_channel_post": lambda c: {
                "edited_channel_post": Message(
                    message_id=5,
                    date=_now(),
                    chat=Chat(id=-1009876543210, type="channel", title="K"),
                    text=text or "?",
                    edit_date=int(_now().timestamp()),
                )
            },  # fmt: skip
            "group_message": lambda c: {
                "message": Message(
                    message_id=9, date=_now(), chat=_group(c), from_user=c.user, text=text or "?"
                )
            },
            "callback_query_no_message": lambda c: {
                "callback_query": CallbackQuery(
                    id=f"cq-{next(c._update_ids)}",
                    from_user=c.user,
                    chat_instance="x",
                    inline_message_id="AgAAAx",
                    data=text[:64] or "m:coop",
                )
            },  # fmt: skip
            "callback_query_inaccessible": lambda c: {
                "callback_query": CallbackQuery(
                    id=f"cq3-{next(c._update_ids)}",
                    from_user=c.user,
                    chat_instance="x",
                    message=InaccessibleMessage(chat=c.chat, message_id=1),
                    data=["m:coop", "m:help", "l:en", "e:0", "c:1:", "k:new"][len(text) % 6],
                )
            },  # fmt: skip
            "callback_query_no_data": lambda c: {
                "callback_query": CallbackQuery(
                    id=f"cq2-{next(c._update_ids)}",
                    from_user=c.user,
                    chat_instance="x",
                    message=message(c, text="?"),
                    game_short_name="game",
                )
            },  # fmt: skip
            "inline_query": lambda c: {
                "inline_query": InlineQuery(id="iq", from_user=c.user, query=text[:256], offset="")
            },
            "chosen_inline_result": lambda c: {
                "chosen_inline_result": ChosenInlineResult(
                    result_id="r", from_user=c.user, query=text[:256]
                )
            },
            "my_chat_member_group": lambda c: {
                "my_chat_member": member_update(c, _group(c), "member")
            },
            "my_chat_member_blocked": lambda c: {
                "my_chat_member": member_update(c, c.chat, "left")
            },
            "chat_member": lambda c: {"chat_member": member_update(c, _group(c), "member")},
            "chat_join_request": lambda c: {
                "chat_join_request": ChatJoinRequest(
                    chat=_group(c),
                    from_user=c.user,
                    user_chat_id=c.user.id,
                    date=_now(),
                    bio=text[:70] or None,
                    invite_link=ChatInviteLink(
                        invite_link="https://t.me/+x",
                        creator=BOT_USER,
                        creates_join_request=True,
                        is_primary=False,
                        is_revoked=False,
                    ),
                )
            },  # fmt: skip
            "message_reaction": lambda c: {
                "message_reaction": MessageReactionUpdated(
                    chat=c.chat,
                    message_id=1,
                    date=_now(),
                    user=c.user,
                    old_reaction=[],
                    new_reaction=[ReactionTypeEmoji(emoji="👍")],
                )
            },  # fmt: skip
            "message_reaction_count": lambda c: {
                "message_reaction_count": MessageReactionCountUpdated(
                    chat=_group(c),
                    message_id=1,
                    date=_now(),
                    reactions=[ReactionCount(type=ReactionTypeEmoji(emoji="👍"), total_count=2)],
                )
            },  # fmt: skip
            "poll_answer": lambda c: {
                "poll_answer": PollAnswer(
                    poll_id="p1", user=c.user, option_ids=[0], option_persistent_ids=["o1"]
                )
            },
            "poll": lambda c: {
                "poll": Poll(
                    id="p1",
                    question=text[:300] or "?",
                    options=[PollOption(persistent_id="o1", text="a", voter_count=1)],
                    total_voter_count=1,
                    is_closed=True,
                    is_anonymous=True,
                    type="regular",
                    allows_multiple_answers=False,
                    allows_revoting=False,
                    members_only=False,
                )
            },  # fmt: skip
            "shipping_query": lambda c: {
                "shipping_query": ShippingQuery(
                    id="sq",
                    from_user=c.user,
                    invoice_payload=text[:128] or "x",
                    shipping_address=ShippingAddress(
                        country_code="ID",
                        state="",
                        city="S",
                        street_line1="x",
                        street_line2="",
                        post_code="6",
                    ),
                )
            },  # fmt: skip
            "pre_checkout_query": lambda c: {
                "pre_checkout_query": PreCheckoutQuery(
                    id="pq",
                    from_user=c.user,
                    currency="IDR",
                    total_amount=100,
                    invoice_payload=text[:128] or "x",
                )
            },  # fmt: skip
        }
    )
    return kinds


UPDATE_KIND_NAMES = tuple(update_kinds("x"))


async def feed_kind(chat: OfflineChat, kind: str, text: str) -> list[Any]:
    """Feed one update of this kind with this text to the dispatcher, as this person."""
    fields = update_kinds(text)[kind](chat)
    return await chat.feed_update(Update(update_id=next(chat._update_ids), **fields))


# --- forged callback data --------------------------------------------------------------------


def callback_classes() -> list[type[CallbackData]]:
    """Every CallbackData class of the bot, found by importing bot.* and walking subclasses, so
    a class added later is forged too without touching this suite."""
    import bot

    for module in pkgutil.walk_packages(bot.__path__, "bot."):
        if module.name.endswith(("__main__", ".console")):
            continue
        importlib.import_module(module.name)
    found: list[type[CallbackData]] = []
    todo = list(CallbackData.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__.startswith("bot.") and cls not in found:
            found.append(cls)
    return sorted(found, key=lambda c: c.__prefix__)


def field_values(ids: list[int], known: dict[str, set[str]]) -> st.SearchStrategy[str]:
    """One packed field: a known value of it, someone else's id, out of range, or junk."""
    out_of_range = ["-1", "2147483648", "9223372036854775808", "99999999999999999999", "0", "1e3"]
    return st.one_of(
        st.sampled_from(sorted(known) or [""]) if known else st.just(""),
        st.sampled_from([str(i) for i in ids] or ["1"]),
        st.sampled_from(out_of_range),
        st.sampled_from(["", "x", "all", "other", "1", "yes", "true", "None", "🙂", "a" * 30]),
        st.sampled_from([CANARY[:20], "3578014101900001", "081234567890", "<b>", "&"]),
        st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789._-", max_size=12),
    )


@st.composite
def forged_data(
    draw: st.DrawFn, cls: type[CallbackData], ids: list[int], seen: dict[str, dict[str, set[str]]]
) -> str:
    """Callback data for `cls` as a forger would write it: its prefix and fields, each chosen
    freely; at most 64 bytes (Telegram carries no more)."""
    names = list(cls.model_fields)
    known = seen.get(cls.__prefix__, {})
    values = [draw(field_values(ids, known.get(name, set()))) for name in names]
    if draw(st.booleans()) and values:
        values = values[: draw(st.integers(0, len(values)))]  # too few fields
    data = ":".join([cls.__prefix__, *values])
    return data.encode()[:64].decode(errors="ignore")


def known_values(
    packed: list[str], classes: list[type[CallbackData]]
) -> dict[str, dict[str, set[str]]]:
    """The values each field of each class took in real buttons, so forgeries reach deep."""
    by_prefix = {c.__prefix__: c for c in classes}
    seen: dict[str, dict[str, set[str]]] = {}
    for data in packed:
        prefix, _, rest = data.partition(":")
        cls = by_prefix.get(prefix)
        if cls is None:
            continue
        for name, value in zip(cls.model_fields, rest.split(":"), strict=False):
            seen.setdefault(prefix, {}).setdefault(name, set()).add(value)
    return seen
