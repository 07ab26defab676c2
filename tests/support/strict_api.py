"""A strict Bot API: refuses what Telegram refuses, for the in-process session.

`StrictRules` is handed to `bot.offline.OfflineSession(check=...)`: every call the bot makes
is checked first, and a call Telegram would answer with 400 raises `TelegramBadRequest` with
Telegram's own description (the bot's outbox treats it as Telegram's refusal) and is kept in
`rules.refused`, so a test can say "no call was refused".

What it refuses (Bot API documentation and tdlib's HTML parser):
- HTML it cannot parse: a tag outside b, strong, i, em, u, ins, s, strike, del, span
  class="tg-spoiler", tg-spoiler, a href, code, pre, blockquote, tg-emoji; an end tag that
  does not close the innermost open tag; a tag left open; a bare `<` or `&` (the documented
  rule: "all <, > and & symbols that are not a part of a tag or an HTML entity must be replaced
  with the corresponding HTML entities"; tdlib lets a bare `>` and `&` through, this stays on
  the documented side and refuses `&` too, but lets `>` pass as Telegram does); an unknown
  named entity (only lt, gt, amp, quot and numeric ones exist);
- message text empty or over 4,096 UTF-16 code units after the entities are parsed; a caption
  over 1,024;
- inline keyboards: a button with empty text, callback data empty or over 64 bytes, a button
  with no action, more than 100 buttons;
- answerCallbackQuery: text over 200 characters, or the same query answered twice;
- editMessageText / editMessageReplyMarkup with exactly the current text and keyboard
  ("message is not modified");
- setMyCommands: a command not 1-32 of a-z, 0-9, _; a description not 1-256 characters.

A message the bot never sent (a test's forged press on a made-up message) may be edited: the
rules cannot know what it holds.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from aiogram import Bot
from aiogram.client.default import Default
from aiogram.methods import TelegramMethod
from aiogram.types import InlineKeyboardMarkup, ReplyKeyboardMarkup

ALLOWED_TAGS = frozenset(
    "b strong i em u ins s strike del span tg-spoiler a code pre blockquote tg-emoji".split()
)
NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
MAX_TEXT, MAX_CAPTION, MAX_CALLBACK_DATA, MAX_BUTTONS, MAX_ALERT = 4096, 1024, 64, 100, 200
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
_TAG_NAME = re.compile(r"[a-zA-Z][a-zA-Z0-9-]*")
_ATTRIBUTE = re.compile(r"""\s+([a-zA-Z][a-zA-Z0-9_-]*)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s>"']+))?""")
_ENTITY = re.compile(r"&(?:#([0-9]{1,7})|#[xX]([0-9a-fA-F]{1,6})|([a-zA-Z][a-zA-Z0-9]*));")
_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
# Tags that make the same entity: <strong> is bold as <b> is (for "not modified").
SAME = {"strong": "b", "em": "i", "ins": "u", "strike": "s", "del": "s", "span": "tg-spoiler"}


class Refused(Exception):
    """What Telegram would answer: its description."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def parse_html(text: str) -> tuple[str, tuple[tuple[str, int, int, str], ...]]:
    """Telegram's HTML: (plain text, entities as (tag, utf16 offset, utf16 length, attribute)),
    or `Refused` with Telegram's description."""
    out: list[str] = []
    stack: list[tuple[str, int, str]] = []
    entities: list[tuple[str, int, int, str]] = []
    offset, i = 0, 0
    while i < len(text):
        c = text[i]
        if c == "&":
            m = _ENTITY.match(text, i)
            if m is None:
                raise Refused(
                    f"Bad Request: can't parse entities: character '&' at byte offset "
                    f"{len(text[:i].encode())} is not a part of an HTML entity"
                )
            if m.group(3) is not None:
                if m.group(3) not in NAMED_ENTITIES:
                    raise Refused(
                        f"Bad Request: can't parse entities: unknown HTML entity "
                        f"'&{m.group(3)};' at byte offset {len(text[:i].encode())}"
                    )
                ch = NAMED_ENTITIES[m.group(3)]
            else:
                code = int(m.group(1)) if m.group(1) else int(m.group(2), 16)
                if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                    raise Refused("Bad Request: can't parse entities: invalid numeric entity")
                ch = chr(code)
            out.append(ch)
            offset += utf16_len(ch)
            i = m.end()
            continue
        if c != "<":
            out.append(c)
            offset += utf16_len(c)
            i += 1
            continue
        at = len(text[:i].encode())
        if text.startswith("</", i):
            end = text.find(">", i)
            name = text[i + 2 : end].strip().lower() if end != -1 else ""
            if end == -1:
                raise Refused(
                    f"Bad Request: can't parse entities: unclosed end tag at byte offset {at}"
                )
            if not stack:
                raise Refused(
                    f"Bad Request: can't parse entities: unexpected end tag at byte offset {at}"
                )
            if stack[-1][0] != name:
                raise Refused(
                    f"Bad Request: can't parse entities: unmatched end tag at byte offset {at}, "
                    f'expected "</{stack[-1][0]}>", found "</{name}>"'
                )
            tag, start, attribute = stack.pop()
            entities.append((SAME.get(tag, tag), start, offset - start, attribute))
            i = end + 1
            continue
        m = _TAG_NAME.match(text, i + 1)
        if m is None:
            raise Refused(f"Bad Request: can't parse entities: empty tag name at byte offset {at}")
        name = m.group(0).lower()
        if name not in ALLOWED_TAGS:
            raise Refused(
                f'Bad Request: can\'t parse entities: unsupported start tag "{name}" at byte '
                f"offset {at}"
            )
        j = m.end()
        attributes: dict[str, str] = {}
        while True:
            a = _ATTRIBUTE.match(text, j)
            if a is None:
                break
            value = a.group(2) or ""
            attributes[a.group(1).lower()] = value.strip("\"'")
            j = a.end()
        while j < len(text) and text[j].isspace():
            j += 1
        if j >= len(text) or text[j] != ">":
            raise Refused(
                f'Bad Request: can\'t parse entities: unclosed start tag "{name}" at byte offset {at}'
            )
        if name == "span" and attributes.get("class") != "tg-spoiler":
            raise Refused(
                'Bad Request: can\'t parse entities: tag "span" must have class "tg-spoiler"'
            )
        if name == "tg-emoji" and not attributes.get("emoji-id", "").isdigit():
            raise Refused("Bad Request: can't parse entities: invalid custom emoji identifier")
        stack.append((name, offset, attributes.get("href", "")))
        i = j + 1
    if stack:
        raise Refused(
            f"Bad Request: can't parse entities: can't find end tag corresponding to start tag "
            f'"{stack[-1][0]}"'
        )
    return "".join(out), tuple(sorted(entities, key=lambda e: (e[1], e[2])))


def _resolve(bot: Bot, method: TelegramMethod[Any], name: str) -> Any:
    value = getattr(method, name, None)
    return bot.default[value.name] if isinstance(value, Default) else value


def _content(bot: Bot, method: TelegramMethod[Any], key: str, limit: int) -> tuple[str, Any]:
    """The text or caption as Telegram would keep it (plain text and entities)."""
    raw = getattr(method, key, None)
    if raw is None:
        if key == "text":
            raise Refused("Bad Request: message text is empty")
        return "", ()
    mode = _resolve(bot, method, "parse_mode")
    explicit = getattr(method, "entities" if key == "text" else "caption_entities", None)
    if explicit:
        plain, entities = raw, tuple(e.model_dump_json() for e in explicit)
    elif mode is not None and str(getattr(mode, "value", mode)).lower() == "html":
        plain, entities = parse_html(raw)
    else:
        plain, entities = raw, ()
    if key == "text" and not plain.strip():
        raise Refused("Bad Request: message text is empty")
    if utf16_len(plain) > limit:
        raise Refused(
            "Bad Request: message is too long"
            if key == "text"
            else "Bad Request: message caption is too long"
        )
    return plain, entities


def _markup(markup: Any) -> str | None:
    """The keyboard as Telegram would keep it, for "not modified"; refused when malformed."""
    if markup is None:
        return None
    if isinstance(markup, InlineKeyboardMarkup):
        buttons = [b for row in markup.inline_keyboard for b in row]
        if len(buttons) > MAX_BUTTONS:
            raise Refused("Bad Request: reply markup is too long")
        for button in buttons:
            if not (button.text or "").strip():
                raise Refused("Bad Request: BUTTON_TEXT_EMPTY")
            data = button.callback_data
            if data is not None and not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA:
                raise Refused("Bad Request: BUTTON_DATA_INVALID")
            actions = [
                button.callback_data, button.url, button.switch_inline_query,
                button.switch_inline_query_current_chat, button.web_app, button.login_url,
                button.pay, button.callback_game, button.copy_text,
                button.switch_inline_query_chosen_chat,
            ]  # fmt: skip
            if all(a is None for a in actions):
                raise Refused("Bad Request: can't parse inline keyboard button: no action")
            if button.url is not None and not re.match(r"(https?|tg)://\S+$", button.url):
                raise Refused("Bad Request: BUTTON_URL_INVALID")
        return json.dumps(markup.model_dump(mode="json", exclude_none=True), sort_keys=True)
    if isinstance(markup, ReplyKeyboardMarkup):
        buttons = [b for row in markup.keyboard for b in row]
        if len(buttons) > 300:
            raise Refused("Bad Request: reply markup is too long")
        if any(not (b.text or "").strip() for b in buttons):
            raise Refused("Bad Request: BUTTON_TEXT_EMPTY")
        return None  # a reply keyboard is not part of the message
    return None


@dataclass
class StrictRules:
    """The checks, with what they must remember: what each message the bot sent holds now
    (for "not modified") and which callback queries were answered."""

    refused: list[tuple[str, str]] = field(default_factory=list)
    messages: dict[tuple[int, int], tuple[Any, str | None]] = field(default_factory=dict)
    answered: set[str] = field(default_factory=set)

    def check(self, bot: Bot, method: TelegramMethod[Any]) -> str | None:
        """Telegram's description of its refusal, or None; refusals are kept in `refused`."""
        try:
            self._check(bot, method)
        except Refused as refusal:
            self.refused.append((type(method).__name__, refusal.description))
            return refusal.description
        return None

    def sent(self, method: TelegramMethod[Any], result: Any, bot: Bot) -> None:
        """Remember what a message the bot sent holds (called with the session's result)."""
        name = type(method).__name__
        message_id = getattr(result, "message_id", None)
        if message_id is None or name not in ("SendMessage", "SendPhoto", "SendDocument"):
            return
        key = "text" if name == "SendMessage" else "caption"
        limit = MAX_TEXT if key == "text" else MAX_CAPTION
        content = _content(bot, method, key, limit)
        markup = getattr(method, "reply_markup", None)
        inline = _markup(markup) if isinstance(markup, InlineKeyboardMarkup) else None
        self.messages[(int(method.chat_id), message_id)] = (content, inline)  # type: ignore[attr-defined]

    def _check(self, bot: Bot, method: TelegramMethod[Any]) -> None:
        name = type(method).__name__
        markup = getattr(method, "reply_markup", None)
        inline = _markup(markup)
        if name == "SendMessage":
            _content(bot, method, "text", MAX_TEXT)
        elif name in ("SendPhoto", "SendDocument", "SendVideo", "SendAudio", "SendVoice"):
            _content(bot, method, "caption", MAX_CAPTION)
        elif name in ("EditMessageText", "EditMessageReplyMarkup", "EditMessageCaption"):
            self._edit(bot, method, name, inline)
        elif name == "AnswerCallbackQuery":
            if utf16_len(method.text or "") > MAX_ALERT:  # type: ignore[attr-defined]
                raise Refused("Bad Request: MESSAGE_TOO_LONG")
            query = str(method.callback_query_id)  # type: ignore[attr-defined]
            if query in self.answered:
                raise Refused(
                    "Bad Request: query is too old and response timeout expired or query ID is "
                    "invalid"
                )
            self.answered.add(query)
        elif name == "SetMyCommands":
            for command in method.commands:  # type: ignore[attr-defined]
                if not _COMMAND.fullmatch(command.command):
                    raise Refused("Bad Request: BOT_COMMAND_INVALID")
                if not 1 <= len(command.description.strip()) <= 256:
                    raise Refused("Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")

    def _edit(self, bot: Bot, method: TelegramMethod[Any], name: str, inline: str | None) -> None:
        chat_id, message_id = getattr(method, "chat_id", None), getattr(method, "message_id", None)
        key = (int(chat_id), int(message_id)) if chat_id is not None and message_id else None
        known = self.messages.get(key) if key else None
        content = known[0] if known else None
        if name == "EditMessageText":
            content = _content(bot, method, "text", MAX_TEXT)
        elif name == "EditMessageCaption":
            content = _content(bot, method, "caption", MAX_CAPTION)
        if known is not None and known == (content, inline):
            raise Refused(NOT_MODIFIED)
        if key is not None:
            self.messages[key] = (content, inline)
