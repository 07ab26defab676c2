"""Fake Telegram Bot API server (``/bot{token}/{method}``) for end-to-end tests and benchmarks.

Answers in real Bot API JSON, records calls, plays the user and injects failures.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import math
import mimetypes
import secrets
import time
from collections import defaultdict, deque
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

JSON = dict[str, Any]

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
# Form values that are free text and must never be JSON-decoded ("123" stays a string).
_FREE_TEXT = frozenset(
    "text caption callback_query_id inline_message_id parse_mode url title description name "
    "short_description question explanation message_text query secret_token file_id emoji "
    "document photo sticker voice audio video animation video_note thumbnail".split()
)
_SENDING = ("send", "edit", "copy", "forward")  # methods subject to block() and rate_limit()


@dataclass(frozen=True)
class Call:
    """One Bot API request the fake received."""

    method: str
    params: JSON
    at: float  # time.monotonic() when the request arrived
    error_code: int | None = None  # set when the fake answered ok=false
    result: Any = None  # snapshot of "result" when it answered ok=true


@dataclass(frozen=True)
class UploadedFile:
    """A file the bot uploaded as multipart (sendDocument, sendPhoto, ...)."""

    file_name: str
    size: int
    content_type: str
    content: bytes = field(repr=False)


@dataclass
class _Failure:  # see FakeBotAPI.fail_next
    method: str
    code: int
    retry_after: int
    description: str | None
    chat_id: int | None
    times: int


class ApiError(Exception):
    """An ok=false answer, raised inside the fake's method handlers."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code, self.description, self.retry_after = code, description, retry_after

    @classmethod
    def for_code(cls, code: int, retry_after: int = 1, description: str | None = None) -> ApiError:
        """The error Telegram gives for an HTTP code (429 carries retry_after)."""
        if code == 429:
            return cls(
                code, description or f"Too Many Requests: retry after {retry_after}", retry_after
            )
        defaults = {
            400: "Bad Request",
            401: "Unauthorized",
            404: "Not Found",
            409: "Conflict",
            403: "Forbidden: bot was blocked by the user",
        }
        fallback = "Internal Server Error" if code >= 500 else "Error"
        return cls(code, description or defaults.get(code, fallback))

    def payload(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.code, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def _utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def _file_ids(prefix: str) -> JSON:
    """A plausible file_id / file_unique_id pair."""
    return {
        "file_id": prefix + secrets.token_urlsafe(32),
        "file_unique_id": "AQAD" + secrets.token_urlsafe(8),
    }


def _coerce(key: str, value: str) -> Any:
    """Decode a form/query string like Telegram: integers, booleans and JSON objects/arrays."""
    if key in _FREE_TEXT:
        return value
    try:
        decoded = json.loads(value)
    except ValueError:
        return value
    return decoded if isinstance(decoded, dict | list | bool | int) else value


async def _read_params(request: web.Request) -> JSON:
    """Parameters from the query string plus a JSON, urlencoded or multipart body."""
    params: JSON = {key: _coerce(key, value) for key, value in request.query.items()}
    if request.content_type == "application/json" and request.can_read_body:
        body = await request.json()
        params.update(body if isinstance(body, dict) else {})
    elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for key, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                data = value.file.read()
                params[key] = UploadedFile(value.filename, len(data), value.content_type, data)
            else:
                params[key] = _coerce(key, value if isinstance(value, str) else value.decode())
        for key, value in list(params.items()):  # aiogram sends files as "attach://<field>"
            if isinstance(value, str) and value.startswith("attach://"):
                params[key] = params.pop(value.removeprefix("attach://"), value)
    return params


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _int_param(params: JSON, key: str) -> int:
    """A required integer parameter (chat_id, message_id), or the 400 Telegram gives."""
    value = _as_int(params.get(key))
    if value is None:
        raise ApiError(
            400,
            "Bad Request: chat not found" if key == "chat_id" else f"Bad Request: {key} is invalid",
        )
    return value


def _take_slot(recent: deque[float], rate: float) -> None:
    """Count a send in a sliding window of `rate` a second, or raise 429 when it is full."""
    capacity = max(1, math.floor(rate))
    window = capacity / rate  # 30/s: 30 per 1 s; 0.5/s: 1 per 2 s
    now = time.monotonic()
    while recent and recent[0] <= now - window:
        recent.popleft()
    if len(recent) >= capacity:
        wait = max(1, math.ceil(recent[0] + window - now))
        raise ApiError.for_code(429, wait)
    recent.append(now)


class FakeBotAPI:
    """Fake Telegram Bot API server on 127.0.0.1 for end-to-end tests and benchmarks."""

    def __init__(
        self,
        *,
        bot_id: int = 1000,
        username: str = "pulang_juragan_bot",
        first_name: str = "Pulang Juragan",
        token: str | None = None,
        latency: float = 0.0,
    ) -> None:
        """`latency`: seconds the answer to every sending method (send*, edit*, copy*,
        forward*) takes, as a round trip to Telegram does; the call is recorded (and counts
        against rate_limit()) when it arrives, before the wait."""
        self.bot_user = {
            "id": bot_id,
            "is_bot": True,
            "first_name": first_name,
            "username": username,
        }
        self.required_token = token  # None: any token is accepted
        self.latency = latency
        self.tokens: set[str] = set()  # every token seen in a request URL
        self.calls: list[Call] = []
        self._runner: web.AppRunner | None = None
        self._port, self._closing = 0, False
        self._changed = asyncio.Event()  # replaced on every _fire(); wakes polls and wait_for()
        self._updates: list[JSON] = []
        # update id -> when (time.monotonic()) each getUpdates returned it
        self.handed_out: defaultdict[int, list[float]] = defaultdict(list)
        self._next_update_id, self._webhook_url = 1, ""
        self._messages: dict[int, dict[int, JSON]] = {}  # chat -> message_id -> bot message
        self._sent_log: dict[int, list[int]] = {}  # chat -> ids sent since clear()
        self._last_message_id: dict[int, int] = {}  # shared by user and bot, as in private chats
        self._user_messages: dict[int, set[int]] = {}
        self._users: dict[int, JSON] = {}
        self._reply_keyboards: dict[int, JSON] = {}
        self._callback_ids: set[str] = set()
        self._failures: list[_Failure] = []
        self._blocked: set[int] = set()
        self._rate: float | None = None
        self._recent_sends: deque[float] = deque()
        self._paid_rate: float | None = None  # sends with allow_paid_broadcast
        self._recent_paid: deque[float] = deque()
        self._commands: dict[str, list[JSON]] = {}
        self._webhook_secret = ""
        self._webhook_targets: list[str] = []
        self._webhook_queue: asyncio.Queue[JSON] | None = None
        self._webhook_workers: list[asyncio.Task[None]] = []
        self._webhook_client: aiohttp.ClientSession | None = None
        self.webhook_posts: list[tuple[str, int, int]] = []  # (target, update_id, HTTP status)
        self.left: set[int] = set()  # groups and channels the bot left
        handlers: dict[str, Callable[[JSON], Any]] = {
            "getMe": lambda p: {
                **self.bot_user,
                "can_join_groups": True,
                "can_read_all_group_messages": False,
            },
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendDocument": self._send_document,
            "deleteMessage": self._delete_message,
            "editMessageText": lambda p: self._edit(p, text=True),
            "editMessageReplyMarkup": lambda p: self._edit(p, text=False),
            "answerCallbackQuery": self._answer_callback_query,
            "leaveChat": self._leave_chat,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": lambda p: self._commands.get(self._commands_key(p), []),
            "deleteMyCommands": lambda p: self._set_my_commands({**p, "commands": None}),
            "setWebhook": lambda p: self._set_webhook(str(p.get("url") or ""), p),
            "deleteWebhook": lambda p: self._set_webhook("", p),
            "getWebhookInfo": lambda p: {
                "url": self._webhook_url,
                "has_custom_certificate": False,
                "pending_update_count": len(self._updates),
            },
        }
        self._handlers = {name.lower(): (name, handler) for name, handler in handlers.items()}
        for name in ("getUpdates", "sendChatAction", "close", "logOut"):
            self._handlers[name.lower()] = (name, lambda p: True)

    async def start(self) -> FakeBotAPI:
        """Start serving on a random free port of 127.0.0.1."""
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=1.0
        )
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self._port = self._runner.addresses[0][1]
        self._closing = False
        return self

    async def stop(self) -> None:
        """Release pending long polls and shut the server down."""
        self._closing = True
        self._fire()
        for worker in self._webhook_workers:
            worker.cancel()
        for worker in self._webhook_workers:
            with suppress(asyncio.CancelledError):
                await worker
        self._webhook_workers = []
        if self._webhook_client is not None:
            await self._webhook_client.close()
            self._webhook_client = None
        if self._runner is not None:
            await self._runner.cleanup()
        self._runner, self._port = None, 0

    async def __aenter__(self) -> FakeBotAPI:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``, for TelegramAPIServer.from_base / TELEGRAM_API_URL."""
        if not self._port:
            raise RuntimeError("FakeBotAPI is not started")
        return f"http://127.0.0.1:{self._port}"

    def calls_to(self, method: str) -> list[Call]:
        """Recorded calls of one method (case-insensitive), failed ones included."""
        return [call for call in self.calls if call.method.lower() == method.lower()]

    def sent_to(self, chat_id: int) -> list[JSON]:
        """Bot messages sent to a chat since clear(), in order, as edited since (deleted: gone)."""
        stored = self._messages.get(chat_id, {})
        return [stored[mid] for mid in self._sent_log.get(chat_id, []) if mid in stored]

    def last_message(self, chat_id: int) -> JSON | None:
        """The latest bot message of sent_to(chat_id), or None."""
        sent = self.sent_to(chat_id)
        return sent[-1] if sent else None

    @property
    def pending_updates(self) -> list[JSON]:
        """Updates queued and not yet confirmed through getUpdates offset."""
        return list(self._updates)

    async def wait_for(
        self, predicate: Callable[[Call], bool], timeout: float = 5.0, *, since: int = 0
    ) -> Call:  # noqa: ASYNC109
        """Return the first call in calls[since:] matching predicate, waiting for it if needed."""
        deadline = time.monotonic() + timeout
        checked = since
        while True:
            for call in self.calls[min(checked, len(self.calls)) :]:
                if predicate(call):
                    return call
            checked = len(self.calls)
            if time.monotonic() >= deadline:
                recent = [f"{c.method}({c.params.get('chat_id', '')})" for c in self.calls[-10:]]
                raise AssertionError(f"no matching call within {timeout}s; last calls: {recent}")
            await self._wait_change(deadline - time.monotonic())

    async def wait_until(self, condition: Callable[[], bool], timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until `condition()` holds, looked at after every call and webhook post."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() >= deadline:
                raise AssertionError(f"condition not met within {timeout}s")
            await self._wait_change(deadline - time.monotonic())

    def clear(self) -> None:
        """Forget recorded calls and the sent_to() history (stored messages stay pressable)."""
        self.calls.clear()
        self._sent_log.clear()

    def fail_next(
        self,
        method: str,
        *,
        code: int = 429,
        retry_after: int = 1,
        description: str | None = None,
        chat_id: int | None = None,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` calls of method (to chat_id, if given) fail with code."""
        failure = _Failure(method.lower(), code, retry_after, description, chat_id, times)
        self._failures.append(failure)

    def block(self, user_id: int) -> None:
        """Answer 403 "bot was blocked by the user" to every send to this chat."""
        self._blocked.add(user_id)

    def unblock(self, user_id: int) -> None:
        """Undo block()."""
        self._blocked.discard(user_id)

    def rate_limit(self, per_second: float | None, *, paid: float | None = 1000.0) -> None:
        """Answer 429 to sends beyond per_second in a sliding window; None switches it off.
        A send with allow_paid_broadcast counts against `paid` instead (Telegram's paid
        broadcasts: up to 1000 a second), in a window of its own."""
        self._rate, self._paid_rate = per_second, paid if per_second is not None else None
        self._recent_sends.clear()
        self._recent_paid.clear()

    def deliver_webhooks(self, targets: list[str], *, connections: int = 4) -> None:
        """Play Telegram's webhook side: while a webhook is set (setWebhook), every pushed update
        is POSTed with the secret token setWebhook gave, round-robin over `targets` (the
        instances behind a reverse proxy; the registered public URL is not reachable here), by
        `connections` concurrent senders; an answer other than 2xx is retried after 0.2 s, as
        Telegram retries. Each attempt is recorded in `webhook_posts`."""
        self._webhook_targets = list(targets)
        self._webhook_queue = asyncio.Queue()
        turn = itertools.count()

        async def worker() -> None:
            assert self._webhook_queue is not None
            while True:
                update = await self._webhook_queue.get()
                while True:
                    target = self._webhook_targets[next(turn) % len(self._webhook_targets)]
                    status = await self._post_update(target, update)
                    self.webhook_posts.append((target, update["update_id"], status))
                    self._fire()
                    if 200 <= status < 300:
                        break
                    await asyncio.sleep(0.2)

        self._webhook_workers = [asyncio.create_task(worker()) for _ in range(connections)]

    async def _post_update(self, target: str, update: JSON, secret: str | None = None) -> int:
        if self._webhook_client is None:
            self._webhook_client = aiohttp.ClientSession()
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret or self._webhook_secret}
        try:
            async with self._webhook_client.post(
                target, json=update, headers=headers, timeout=aiohttp.ClientTimeout(total=60)
            ) as response:
                await response.read()
                return response.status
        except (aiohttp.ClientError, OSError, TimeoutError):
            return 0  # not reachable (an instance killed or not yet listening)

    async def post_update(self, target: str, raw: JSON, *, secret: str | None = None) -> int:
        """POST one update to one instance now (as a proxy would), with the registered secret
        token or `secret`; the HTTP status (0: not reachable)."""
        return await self._post_update(target, self._numbered(raw), secret)

    def _numbered(self, raw: JSON) -> JSON:
        """A copy of the update with its id (kept, or the next one); a press is remembered."""
        update = copy.deepcopy(raw)
        update.setdefault("update_id", self._next_update_id)
        self._next_update_id = max(self._next_update_id, update["update_id"] + 1)
        query = update.get("callback_query")
        if isinstance(query, dict) and "id" in query:
            self._callback_ids.add(str(query["id"]))
        return update

    def push_update(self, raw: JSON) -> JSON:
        """Queue any update; keeps a given update_id (duplicates allowed), else assigns the next.
        While a webhook is set and deliver_webhooks() was called, it is POSTed instead."""
        update = self._numbered(raw)
        if self._webhook_url and self._webhook_queue is not None:
            self._webhook_queue.put_nowait(update)
            return update
        self._updates.append(update)
        self._fire()
        return update

    def send_text(
        self,
        user_id: int,
        text: str,
        *,
        first_name: str | None = None,
        language_code: str | None = None,
    ) -> JSON:
        """The user sends text; name and language default to the user's last (first: Siti, id)."""
        content: JSON = {"text": text}
        command = text.split(maxsplit=1)[0] if text.startswith("/") else ""
        if len(command) > 1:
            content["entities"] = [
                {"type": "bot_command", "offset": 0, "length": _utf16_len(command)}
            ]
        return self._user_message(user_id, content, first_name, language_code)

    def send_contact(
        self, user_id: int, phone_number: str, *, contact_user_id: int | None = None
    ) -> JSON:
        """The user shares a contact; contact_user_id defaults to the sender (their own number)."""
        contact = {
            "phone_number": phone_number,
            "first_name": self._user(user_id)["first_name"],
            "user_id": user_id if contact_user_id is None else contact_user_id,
        }
        return self._user_message(user_id, {"contact": contact})

    def send_sticker(self, user_id: int) -> JSON:
        """The user sends a sticker."""
        return self._user_message(
            user_id,
            {
                "sticker": {
                    **_file_ids("CAACAgIAAxkBAAI"),
                    "type": "regular",
                    "width": 512,
                    "height": 512,
                    "is_animated": False,
                    "is_video": False,
                    "emoji": "👍",
                }
            },
        )

    def send_photo(self, user_id: int, caption: str | None = None) -> JSON:
        """The user sends a photo (three sizes), optionally captioned."""
        sizes = [
            {
                **_file_ids("AgACAgUAAxkBAAI"),
                "width": side,
                "height": side * 3 // 4,
                "file_size": side * side // 10,
            }
            for side in (90, 320, 1280)
        ]
        caption_part = {} if caption is None else {"caption": caption}
        return self._user_message(user_id, {"photo": sizes, **caption_part})

    def send_voice(self, user_id: int) -> JSON:
        """The user sends a voice note."""
        return self._user_message(
            user_id,
            {
                "voice": {
                    **_file_ids("AwACAgUAAxkBAAI"),
                    "duration": 4,
                    "mime_type": "audio/ogg",
                    "file_size": 12_345,
                }
            },
        )

    def press(
        self, user_id: int, message_id: int, *, text: str | None = None, data: str | None = None
    ) -> JSON:
        """The user presses an inline button (by text and/or callback_data) on a bot message."""
        message = self._messages.get(user_id, {}).get(message_id)
        if message is None:
            raise AssertionError(f"no bot message {message_id} in chat {user_id}")
        if text is None and data is None:
            raise AssertionError("press() needs text= or data=")
        rows = message.get("reply_markup", {}).get("inline_keyboard", [])
        buttons = [button for row in rows for button in row]
        button = next(
            (
                b
                for b in buttons
                if (text is None or b.get("text") == text)
                and (data is None or b.get("callback_data") == data)
            ),
            None,
        )
        if button is None or "callback_data" not in button:
            shown = [(b.get("text"), b.get("callback_data")) for b in buttons]
            raise AssertionError(
                f"no button text={text!r} data={data!r} with callback_data on "
                f"message {message_id}; it has {shown}"
            )
        query = {
            "id": f"{user_id}{secrets.randbelow(10**9):09d}",
            "from": dict(self._user(user_id)),
            "message": copy.deepcopy(message),
            "chat_instance": str(-4_000_000_000 - user_id),
            "data": button["callback_data"],
        }
        return self.push_update({"callback_query": query})

    def press_reply(self, user_id: int, text: str, *, phone_number: str | None = None) -> JSON:
        """The user taps a reply-keyboard button of the chat (request_contact shares a contact)."""
        keyboard = self._reply_keyboards.get(user_id, {}).get("keyboard", [])
        buttons = [b if isinstance(b, dict) else {"text": b} for row in keyboard for b in row]
        button = next((b for b in buttons if b.get("text") == text), None)
        if button is None:
            shown = [b.get("text") for b in buttons]
            raise AssertionError(f"no reply button {text!r} for chat {user_id}; it has {shown}")
        if button.get("request_contact"):
            return self.send_contact(user_id, phone_number or f"62812{user_id % 10**8:08d}")
        return self.send_text(user_id, text)

    async def _handle(self, request: web.Request) -> web.Response:
        at, info = time.monotonic(), request.match_info
        token, name = info["token"], info["method"]
        method, handler = self._handlers.get(name.lower(), (name, lambda p: True))
        self.tokens.add(token)
        params: JSON = {}
        try:
            try:
                params = await _read_params(request)
            except ValueError:
                raise ApiError(400, "Bad Request: can't parse request parameters") from None
            if self.required_token is not None and token != self.required_token:
                raise ApiError(401, "Unauthorized")
            self._check_failures(method, params)
            result = await self._get_updates(params) if method == "getUpdates" else handler(params)
        except ApiError as error:
            self._record(Call(method, params, at, error_code=error.code))
            await self._delay(method)
            return web.json_response(error.payload(), status=error.code)
        self._record(Call(method, params, at, result=copy.deepcopy(result)))
        await self._delay(method)
        return web.json_response({"ok": True, "result": result})

    async def _delay(self, method: str) -> None:
        """The round trip of a sending method (see `latency`)."""
        if self.latency > 0 and method.lower().startswith(_SENDING):
            await asyncio.sleep(self.latency)

    def _record(self, call: Call) -> None:
        self.calls.append(call)
        self._fire()

    def _fire(self) -> None:
        """Wake everyone waiting in _wait_change()."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def _wait_change(self, seconds: float) -> None:
        with suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), max(seconds, 0.0))

    def _check_failures(self, method: str, params: JSON) -> None:
        """Raise an injected failure, a block or a rate-limit error if one applies."""
        chat_id = _as_int(params.get("chat_id"))
        for failure in self._failures:
            if failure.method == method.lower() and failure.chat_id in (None, chat_id):
                failure.times -= 1
                if failure.times <= 0:
                    self._failures.remove(failure)
                raise ApiError.for_code(failure.code, failure.retry_after, failure.description)
        if not method.lower().startswith(_SENDING):
            return
        if chat_id in self._blocked:
            raise ApiError.for_code(403)
        paid = str(params.get("allow_paid_broadcast", "")).lower() == "true"
        if paid and self._paid_rate is not None:
            _take_slot(self._recent_paid, self._paid_rate)
        elif self._rate is not None:
            _take_slot(self._recent_sends, self._rate)

    async def _get_updates(self, params: JSON) -> list[JSON]:
        if self._webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        try:
            offset, limit = int(params.get("offset") or 0), int(params.get("limit") or 100)
            deadline = time.monotonic() + float(params.get("timeout") or 0)
        except (TypeError, ValueError):
            raise ApiError(400, "Bad Request: invalid getUpdates parameters") from None
        # As Telegram: an offset confirms every update below it (dropped, never handed out
        # again, even to a new process); the rest stay queued and come again on every call
        # until confirmed, so a poller that dies before confirming gets them back.
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:  # -N: keep only the last N updates, as Telegram does
            self._updates = self._updates[offset:]
        while not self._updates and not self._closing and time.monotonic() < deadline:
            await self._wait_change(deadline - time.monotonic())
        batch = self._updates[: min(max(limit, 1), 100)]
        now = time.monotonic()
        for update in batch:
            self.handed_out[update["update_id"]].append(now)
        return batch

    def _send_message(self, params: JSON) -> JSON:
        return self._bot_message(params, self._text(params, "text"))

    def _send_photo(self, params: JSON) -> JSON:
        photo = params.get("photo")
        if not photo:
            raise ApiError(400, "Bad Request: there is no photo in the request")
        size = photo.size if isinstance(photo, UploadedFile) else 50_000
        sizes = [
            {
                **_file_ids("AgACAgIAAxkDAAI"),
                "width": side,
                "height": side,
                "file_size": min(size, side * side // 8),
            }
            for side in (90, 320, 800)
        ]
        if isinstance(photo, str):
            sizes[-1]["file_id"] = photo
        return self._bot_message(params, {"photo": sizes, **self._text(params, "caption")})

    def _send_document(self, params: JSON) -> JSON:
        upload = params.get("document")
        if not upload:
            raise ApiError(400, "Bad Request: there is no document in the request")
        document = _file_ids("BQACAgIAAxkDAAI")
        if isinstance(upload, UploadedFile):
            mime = mimetypes.guess_type(upload.file_name)[0] or upload.content_type
            document.update(file_name=upload.file_name, mime_type=mime, file_size=upload.size)
        else:
            document["file_id"] = str(upload)
        return self._bot_message(params, {"document": document, **self._text(params, "caption")})

    def _edit(self, params: JSON, *, text: bool) -> JSON | bool:
        """editMessageText (text=True) or editMessageReplyMarkup, with Telegram's 400s."""
        if params.get("inline_message_id"):
            return True
        chat_id, message_id = _int_param(params, "chat_id"), _int_param(params, "message_id")
        message = self._messages.get(chat_id, {}).get(message_id)
        if message is None:
            if message_id in self._user_messages.get(chat_id, set()):
                raise ApiError(400, "Bad Request: message can't be edited")
            raise ApiError(400, "Bad Request: message to edit not found")
        changes: JSON = {"reply_markup": self._inline_markup(params)}
        if text:
            if "text" not in message:
                raise ApiError(400, "Bad Request: there is no text in the message to edit")
            changes.update(self._text(params, "text"))
        if all(message.get(key) == value for key, value in changes.items()):
            raise ApiError(400, NOT_MODIFIED)
        for key, value in changes.items():
            if value is None:
                message.pop(key, None)  # e.g. editing text without reply_markup drops the keyboard
            else:
                message[key] = value
        message["edit_date"] = int(time.time())
        return message

    def _delete_message(self, params: JSON) -> bool:
        chat_id, message_id = _int_param(params, "chat_id"), _int_param(params, "message_id")
        if self._messages.get(chat_id, {}).pop(message_id, None) is not None:
            return True
        if message_id in self._user_messages.get(chat_id, set()):
            self._user_messages[chat_id].discard(message_id)
            return True
        raise ApiError(400, "Bad Request: message to delete not found")

    def _leave_chat(self, params: JSON) -> bool:
        """The bot leaves a group or channel; a private chat cannot be left, as on Telegram."""
        chat_id = _int_param(params, "chat_id")
        if chat_id > 0:
            raise ApiError(400, "Bad Request: chat member status can't be changed in private chats")
        self.left.add(chat_id)
        return True

    def _answer_callback_query(self, params: JSON) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        if query_id not in self._callback_ids:  # unknown, or answered already
            raise ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        self._callback_ids.discard(query_id)
        return True

    def _set_my_commands(self, params: JSON) -> bool:
        key = self._commands_key(params)
        if params.get("commands"):
            self._commands[key] = list(params["commands"])
        else:
            self._commands.pop(key, None)
        return True

    @staticmethod
    def _commands_key(params: JSON) -> str:
        scope = params.get("scope") or {"type": "default"}
        return f"{json.dumps(scope, sort_keys=True)}|{params.get('language_code') or ''}"

    def _set_webhook(self, url: str, params: JSON) -> bool:
        self._webhook_url = url
        self._webhook_secret = str(params.get("secret_token") or "") if url else ""
        if url and self._webhook_queue is not None:  # what queued meanwhile goes out now
            for update in self._updates:
                self._webhook_queue.put_nowait(update)
            self._updates = []
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    @staticmethod
    def _text(params: JSON, key: str) -> JSON:
        """{"text"/"caption": ..., entities} as stored; entities pass through, not parse_mode."""
        if key == "caption" and params.get("caption") is None:
            return {}
        text = str(params.get(key) or "")
        if key == "text" and not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if _utf16_len(text) > (4096 if key == "text" else 1024):
            raise ApiError(
                400, f"Bad Request: message {'is' if key == 'text' else 'caption is'} too long"
            )
        entities_key = "entities" if key == "text" else "caption_entities"
        return {key: text, entities_key: params.get(entities_key) or None}

    @staticmethod
    def _inline_markup(params: JSON) -> JSON | None:
        """The inline keyboard of a request (validated), or None."""
        markup = params.get("reply_markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        for row in markup.get("inline_keyboard", []):
            for button in row:
                if len(str(button.get("callback_data", "")).encode()) > 64:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        return markup if "inline_keyboard" in markup else None

    def _bot_message(self, params: JSON, content: JSON) -> JSON:
        """Store and return a Message the bot sent."""
        chat_id = _int_param(params, "chat_id")
        inline, markup = self._inline_markup(params), params.get("reply_markup")
        if isinstance(markup, dict) and "keyboard" in markup:
            self._reply_keyboards[chat_id] = markup
        elif isinstance(markup, dict) and markup.get("remove_keyboard"):
            self._reply_keyboards.pop(chat_id, None)
        message: JSON = {
            "message_id": self._new_message_id(chat_id),
            "from": dict(self.bot_user),
            "chat": self._chat(chat_id),
            "date": int(time.time()),
            "reply_markup": inline,
            **content,
        }
        message = {key: value for key, value in message.items() if value is not None}
        self._messages.setdefault(chat_id, {})[message["message_id"]] = message
        self._sent_log.setdefault(chat_id, []).append(message["message_id"])
        return message

    def _new_message_id(self, chat_id: int) -> int:
        self._last_message_id[chat_id] = self._last_message_id.get(chat_id, 0) + 1
        return self._last_message_id[chat_id]

    def _chat(self, chat_id: int) -> JSON:
        return {"id": chat_id, "type": "private", "first_name": self._user(chat_id)["first_name"]}

    def _user(
        self, user_id: int, first_name: str | None = None, language_code: str | None = None
    ) -> JSON:
        """The remembered profile of a person (at first: Siti, language id)."""
        user = self._users.setdefault(
            user_id, {"id": user_id, "is_bot": False, "first_name": "Siti", "language_code": "id"}
        )
        if first_name is not None:
            user["first_name"] = first_name
        if language_code is not None:
            user["language_code"] = language_code
        return user

    def _user_message(
        self,
        user_id: int,
        content: JSON,
        first_name: str | None = None,
        language_code: str | None = None,
    ) -> JSON:
        """Queue a message update from a person in their private chat with the bot."""
        user = self._user(user_id, first_name, language_code)
        message_id = self._new_message_id(user_id)
        self._user_messages.setdefault(user_id, set()).add(message_id)
        message = {
            "message_id": message_id,
            "from": dict(user),
            "chat": self._chat(user_id),
            "date": int(time.time()),
            **content,
        }
        return self.push_update({"message": message})
