"""Before `run` or `webhook` serves: Telegram answers and takes the token, the ports are free.
Each failure is one sentence for the operator (bot.__main__ prints it, exit status 2)."""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
from collections.abc import Awaitable, Callable
from typing import TypeVar
from urllib.parse import urlsplit

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiohttp import ClientError, web

from bot.config import ConfigError
from bot.logs import describe

log = logging.getLogger(__name__)
T = TypeVar("T")
FIRST_WAIT = 1.0  # s before the second attempt; doubling after each
LONGEST_ATTEMPT = 10.0  # s one call may take before it counts as failed
TRANSIENT = (TelegramNetworkError, TelegramServerError, TelegramRetryAfter, ClientError, OSError)


async def with_telegram(
    call: Callable[[], Awaitable[T]], *, what: str, within: float, api_url: str
) -> T:
    """`call()` until Telegram answers it, waiting 1, 2, 4... s between attempts for at most
    `within` seconds in all (TELEGRAM_START_SECONDS); then a ConfigError. A refused token or
    an endpoint that is no Bot API ends it at once."""
    loop = asyncio.get_running_loop()
    deadline, wait, attempts = loop.time() + within, FIRST_WAIT, 0
    host = urlsplit(api_url).netloc
    while True:
        attempts += 1
        left = deadline - loop.time()
        try:
            async with asyncio.timeout(max(1.0, min(LONGEST_ATTEMPT, left))):
                return await call()
        except TelegramUnauthorizedError:
            raise ConfigError(
                f"Telegram refused BOT_TOKEN ({what}: 401 Unauthorized): "
                "check the token from @BotFather."
            ) from None
        except TelegramNotFound:
            raise ConfigError(
                f"Telegram answered {what} with 404 Not Found: BOT_TOKEN is wrong or "
                f"TELEGRAM_API_URL ({host}) is not a Bot API server."
            ) from None
        except (*TRANSIENT, TimeoutError) as exc:
            reason = describe(exc) if not isinstance(exc, TimeoutError) else "no answer in time"
            if loop.time() + wait > deadline:
                raise ConfigError(
                    f"Telegram cannot be reached at TELEGRAM_API_URL ({host}): {attempts} "
                    f"attempt(s) in {within:g} s failed; check the network and try again."
                ) from None
            log.warning(
                "Telegram not reachable at %s for %s (%s); trying again in %g s",
                host, what, reason, wait,
            )  # fmt: skip
            await asyncio.sleep(wait)
            wait *= 2
        except TelegramAPIError as exc:
            raise ConfigError(f"Telegram refused {what}: {describe(exc)}.") from None


async def reach_telegram(bot: Bot, *, within: float, api_url: str) -> None:
    """getMe: is Telegram there, and is the token right?"""
    await with_telegram(bot.get_me, what="getMe", within=within, api_url=api_url)


async def listen(runner: web.AppRunner, host: str, port: int, *, setting: str) -> None:
    """Start serving on host:port, or a ConfigError saying why it cannot (naming `setting`)."""
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:
        await runner.cleanup()
        if exc.errno == errno.EADDRINUSE:
            why = "another program is using that port"
        elif exc.errno == errno.EACCES:
            why = "this user may not use that port (choose one above 1023)"
        elif isinstance(exc, socket.gaierror) or exc.errno == errno.EADDRNOTAVAIL:
            why = "WEBHOOK_HOST is not an address of this machine"
        else:
            why = exc.strerror or type(exc).__name__
        raise ConfigError(f"{setting} {port} on {host} cannot be used: {why}.") from None
