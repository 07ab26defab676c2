"""Settings from the environment and `.env`, with one clear sentence when one is wrong."""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

TELEGRAM_API_DEFAULT = "https://api.telegram.org"
LOCALES = ("id", "en")


class ConfigError(Exception):
    """A setting is missing or malformed; the message names the variable."""


class Settings(BaseSettings):
    """Every setting the bot reads. The README's settings table mirrors this class."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    bot_token: SecretStr | None = None
    database_url: str = "sqlite+aiosqlite:///./juragan.db"
    telegram_api_url: str = TELEGRAM_API_DEFAULT
    admin_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    default_locale: str = "id"
    log_level: str = "INFO"
    flood_limit: int = Field(default=8, ge=1)
    flood_window: float = Field(default=4.0, gt=0)
    reminder_tick_seconds: float = Field(default=30.0, gt=0)  # how often due reminders are sent
    delivery_rate: float = Field(default=25.0, gt=0, le=30)  # messages/s, bot-wide
    quiet_hours: str = "21-7"  # local hours when nothing is sent outside a conversation
    announcement_weekly_cap: int = Field(default=3, ge=0)  # per person per 7 days; 0: no cap
    broadcast_poll_seconds: float = Field(default=2.0, gt=0)  # how often the sender looks
    review_overdue_days: int = Field(default=3, ge=1)  # a submission waiting longer is flagged
    digest_hour: int = Field(default=8, ge=0, le=23)  # staff's daily digest, their local hour
    log_format: str = "text"  # text | json (one JSON object a line, for a log collector)
    # `juragan webhook`: Telegram posts updates to WEBHOOK_URL (a reverse proxy in front of
    # WEBHOOK_HOST:WEBHOOK_PORT), each with WEBHOOK_SECRET in a header.
    webhook_url: str = ""
    webhook_secret: SecretStr | None = None
    webhook_secret_also: SecretStr | None = None  # also accepted, never registered: rotation
    webhook_host: str = "127.0.0.1"
    webhook_port: int = Field(default=8080, ge=1, le=65535)
    webhook_max_connections: int = Field(default=40, ge=1, le=100)
    status_port: int = Field(default=0, ge=0, le=65535)  # `juragan run`: /healthz, /metrics
    redis_url: str = ""  # aiogram's FSM storage (short UI state) in Redis; empty: in memory

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p for p in value.replace(";", ",").replace(" ", ",").split(",") if p]
            if not all(p.lstrip("-").isdigit() for p in parts):
                raise ValueError("must be Telegram user ids separated by commas, like 12345,67890")
            return frozenset(int(p) for p in parts)
        return value

    @field_validator("default_locale")
    @classmethod
    def _known_locale(cls, value: str) -> str:
        if value not in LOCALES:
            raise ValueError(f"must be one of {', '.join(LOCALES)}")
        return value

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        value = value.upper()
        if value not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return value

    @field_validator("log_format")
    @classmethod
    def _log_format(cls, value: str) -> str:
        value = value.strip().lower()
        if value not in {"text", "json"}:
            raise ValueError("must be text or json")
        return value

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, value: str) -> str:
        value = value.strip()
        if value and not value.startswith("https://"):
            raise ValueError("must be an https:// URL (Telegram sends webhooks only over HTTPS)")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str) -> str:
        value = value.strip()
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @field_validator("database_url")
    @classmethod
    def _db(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    @field_validator("telegram_api_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")

    @field_validator("quiet_hours")
    @classmethod
    def _quiet(cls, value: str) -> str:
        start, _, end = value.partition("-")
        if not (start.strip().isdigit() and end.strip().isdigit()):
            raise ValueError("must be two hours like 21-7")
        if not (0 <= int(start) <= 23 and 0 <= int(end) <= 23) or int(start) == int(end):
            raise ValueError("must be two different hours from 0 to 23, like 21-7")
        return f"{int(start)}-{int(end)}"

    @property
    def quiet_window(self) -> tuple[int, int]:
        start, _, end = self.quiet_hours.partition("-")
        return int(start), int(end)

    def require_token(self) -> str:
        """The bot token, or a ConfigError naming BOT_TOKEN."""
        token = _reveal(self.bot_token).strip()
        if not token:
            raise ConfigError(
                "BOT_TOKEN is not set: put the token from @BotFather in the environment or .env "
                "(or use `juragan chat`, which needs none)."
            )
        if ":" not in token or not token.split(":", 1)[0].isdigit():
            raise ConfigError("BOT_TOKEN is malformed: it should look like 123456:ABC-DEF...")
        return token

    def require_webhook(self) -> tuple[str, str]:
        """(WEBHOOK_URL, WEBHOOK_SECRET), or a ConfigError naming the one missing or wrong.

        Without a secret anyone who finds the URL could post forged updates, so it is required."""
        if not self.webhook_url:
            raise ConfigError(
                "WEBHOOK_URL is not set: the public https:// address Telegram should post "
                "updates to, e.g. https://bot.example.go.id/telegram"
            )
        secret = _reveal(self.webhook_secret)
        if not secret:
            raise ConfigError(
                "WEBHOOK_SECRET is not set: 1 to 256 characters of A-Z, a-z, 0-9, _ and -; "
                "make one with `openssl rand -hex 32`"
            )
        for name, value in (("WEBHOOK_SECRET", secret), ("WEBHOOK_SECRET_ALSO", self.also)):
            if value and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", value):
                raise ConfigError(
                    f"{name} is malformed: only A-Z, a-z, 0-9, _ and - are allowed, "
                    "1 to 256 of them"
                )
        return self.webhook_url, secret

    @property
    def also(self) -> str:
        """WEBHOOK_SECRET_ALSO, or "" when unset."""
        return _reveal(self.webhook_secret_also)

    @property
    def webhook_path(self) -> str:
        """The path of WEBHOOK_URL, where the server takes updates (the proxy keeps it)."""
        return urlsplit(self.webhook_url).path or "/"


def _reveal(secret: SecretStr | None) -> str:
    return secret.get_secret_value() if secret else ""


def load_settings(**overrides: object) -> Settings:
    """Read settings; turn pydantic's error into one sentence naming the variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        err = exc.errors()[0]
        name = str(err["loc"][0]).upper() if err["loc"] else "a setting"
        msg = str(err["msg"]).removeprefix("Value error, ")
        raise ConfigError(f"{name} is malformed: {msg}.") from None
