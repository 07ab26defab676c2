"""Settings from the environment and `.env`, with one clear sentence when one is wrong."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any
from urllib.parse import SplitResult, urlsplit

from annotated_types import Ge, Le
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

TELEGRAM_API_DEFAULT = "https://api.telegram.org"
LOCALES = ("id", "en")
INT64_MAX = 2**63 - 1  # Telegram ids are stored as BIGINT
# A path of plain characters only: no query, fragment, spaces or percent-escapes to smuggle in.
PLAIN_PATH = re.compile(r"(/[A-Za-z0-9._~-]+)*/?")
HOSTNAME = re.compile(
    r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*"
)


class ConfigError(Exception):
    """A setting is missing or malformed; the message names the variable."""


def _number(default: float, low: float, high: float, unit: str = "") -> Any:
    """A numeric setting with its range (said in the error when it is outside; inf and nan
    are refused too). `unit` is how the error names what the number counts."""
    return Field(
        default=default,
        ge=low,
        le=high,
        allow_inf_nan=False if isinstance(default, float) else None,
        json_schema_extra={"unit": unit},
    )


class Settings(BaseSettings):
    """Every setting the bot reads. The README's settings table mirrors this class."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    bot_token: SecretStr | None = None
    database_url: str = "sqlite+aiosqlite:///./juragan.db"
    telegram_api_url: str = TELEGRAM_API_DEFAULT
    admin_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    default_locale: str = "id"
    log_level: str = "INFO"
    flood_limit: int = _number(8, 1, 1_000_000, "updates")
    flood_window: float = _number(4.0, 0.1, 3600, "seconds")
    reminder_tick_seconds: float = _number(30.0, 0.1, 3600, "seconds")  # due reminders sent
    delivery_rate: float = _number(25.0, 0.1, 30, "messages a second")  # bot-wide
    quiet_hours: str = "21-7"  # local hours when nothing is sent outside a conversation
    announcement_weekly_cap: int = _number(3, 0, 100, "announcements")  # 0: no cap
    broadcast_poll_seconds: float = _number(2.0, 0.1, 600, "seconds")  # how often it looks
    # Telegram's paid broadcasts (allow_paid_broadcast, announcements only): up to 1000
    # messages a second, "for a fee of 0.1 Telegram Stars per message" above the free limit
    # (Bot API, sendMessage; the bot's Star balance pays). 980: room under 1000 for jitter.
    paid_broadcast: bool = False
    paid_broadcast_rate: float = _number(980.0, 31, 1000, "messages a second")
    paid_broadcast_stars: float = _number(0.1, 0, 100, "Telegram Stars a message")
    review_overdue_days: int = _number(3, 1, 365, "days")  # a submission waiting longer: flagged
    digest_hour: int = _number(8, 0, 23, "o'clock")  # staff's daily digest, their local hour
    # How long `run` and `webhook` keep trying to reach Telegram at start before giving up.
    telegram_start_seconds: float = _number(30.0, 1, 600, "seconds")
    log_format: str = "text"  # text | json (one JSON object a line, for a log collector)
    # `juragan webhook`: Telegram posts updates to WEBHOOK_URL (a reverse proxy in front of
    # WEBHOOK_HOST:WEBHOOK_PORT), each with WEBHOOK_SECRET in a header.
    webhook_url: str = ""
    webhook_secret: SecretStr | None = None
    webhook_secret_also: SecretStr | None = None  # also accepted, never registered: rotation
    webhook_host: str = "127.0.0.1"
    webhook_port: int = _number(8080, 1, 65535)
    webhook_max_connections: int = _number(40, 1, 100, "connections")
    status_port: int = _number(0, 0, 65535)  # `juragan run`: /healthz, /metrics; 0: off
    redis_url: str = ""  # aiogram's FSM storage (short UI state) in Redis; empty: in memory
    # Retention (bot/retention.py): older rows are deleted hourly by the leading instance, in
    # batches of PRUNE_BATCH rows, each its own short transaction. Update ids: Telegram keeps
    # an update 24 hours, so after 2 days one can never come again. Deliveries of a finished
    # announcement: the weekly cap reads 7 days (so at least 8), the chat ids are personal
    # data. Audit rows: 2 years, at least 1 (the database's own floor, migration 0023).
    retain_update_ids_days: int = _number(2, 2, 365, "days")
    retain_deliveries_days: int = _number(90, 8, 3650, "days")
    retain_audit_days: int = _number(730, 365, 3650, "days")
    prune_batch: int = _number(5000, 100, 50_000, "rows")
    # The staff desk: `juragan desk` listens on DESK_HOST:DESK_PORT; DESK_URL is its public
    # address (the links /meja gives, the path `juragan webhook` mounts it under).
    desk_url: str = ""
    desk_host: str = "127.0.0.1"
    desk_port: int = _number(8081, 1, 65535)

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p for p in value.replace(";", ",").replace(" ", ",").split(",") if p]
            # A user's id is a positive whole number (negative ids are groups and channels).
            if not all(re.fullmatch(r"[0-9]{1,19}", p) and 0 < int(p) <= INT64_MAX for p in parts):
                raise ValueError(
                    "must be Telegram user ids (positive whole numbers) separated by commas, "
                    "like 12345,67890"
                )
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
        if value:
            _web_address(value, example="https://bot.example.go.id/telegram")
        return value

    @field_validator("desk_url")
    @classmethod
    def _desk_url(cls, value: str) -> str:
        value = value.strip()
        if not value:
            return value
        example = "https://meja.example.go.id/"
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"must be an https:// URL, like {example}")
        _web_address(value, example=example)
        if value.startswith("http://") and not _loopback(urlsplit(value).hostname or ""):
            raise ValueError(
                "must be https:// (plain http:// only on this machine, like http://127.0.0.1:8081/)"
            )
        return value if value.endswith("/") else value + "/"

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str) -> str:
        value = value.strip()
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        if value:
            _redis_address(value)
        return value

    @field_validator("database_url")
    @classmethod
    def _db(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        _database_address(value)
        return value

    @field_validator("telegram_api_url")
    @classmethod
    def _url(cls, value: str) -> str:
        value = value.strip()
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        _web_address(value, example=TELEGRAM_API_DEFAULT)
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

    @property
    def broadcast_rate(self) -> float:
        """Announcements a second: PAID_BROADCAST_RATE when paid broadcasts are on."""
        return self.paid_broadcast_rate if self.paid_broadcast else self.delivery_rate

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

    def require_desk(self) -> str:
        """DESK_URL, or a ConfigError saying it is needed."""
        if not self.desk_url:
            raise ConfigError(
                "DESK_URL is not set: the address people open the staff desk at, e.g. "
                "https://meja.example.go.id/ (or http://127.0.0.1:8081/ on this machine)"
            )
        return self.desk_url

    @property
    def desk_path(self) -> str:
        """The path of DESK_URL, where the desk's pages are (ends with /)."""
        return urlsplit(self.desk_url).path or "/"

    @property
    def desk_secure(self) -> bool:
        """The desk is reached over https: its cookie is Secure."""
        return self.desk_url.startswith("https://")

    @property
    def also(self) -> str:
        """WEBHOOK_SECRET_ALSO, or "" when unset."""
        return _reveal(self.webhook_secret_also)

    @property
    def webhook_path(self) -> str:
        """The path of WEBHOOK_URL, where the server takes updates (the proxy keeps it)."""
        return urlsplit(self.webhook_url).path or "/"

    def secrets(self) -> list[str]:
        """Every secret among the settings (the token, the webhook secrets, the passwords in
        DATABASE_URL and REDIS_URL), for the logs to blank out wherever one would appear."""
        found = [_reveal(self.bot_token), _reveal(self.webhook_secret), self.also]
        for url in (self.database_url, self.redis_url):
            try:
                found.append(urlsplit(url).password or "")
            except ValueError:
                pass
        return [s for s in found if len(s) >= 4]


def _reveal(secret: SecretStr | None) -> str:
    return secret.get_secret_value() if secret else ""


def _split(value: str) -> SplitResult:
    """urlsplit, with the port and host checked (urlsplit checks them only when asked)."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 (raises ValueError for a port that is not 0-65535)
        host = parts.hostname
    except ValueError:
        raise ValueError(
            "must be a URL that can be read (check its host, port and [brackets])"
        ) from None
    if host and ":" in host:  # only an IPv6 address has colons, and only inside [brackets]
        try:
            ipaddress.IPv6Address(host.partition("%")[0])
        except ValueError:
            raise ValueError("must have an IPv6 address inside [brackets]") from None
    return parts


def _web_address(value: str, *, example: str) -> None:
    """An http(s) address: scheme, a real host, maybe a port and a plain path; nothing else
    (no user or password, query, fragment or spaces)."""
    parts = _split(value)
    host = parts.hostname or ""
    if not host or not (":" in host or HOSTNAME.fullmatch(host)):
        raise ValueError(f"must name a host, like {example}")
    if parts.username is not None or parts.password is not None:
        raise ValueError("must not carry a user name or password")
    if parts.query or parts.fragment or "?" in value or "#" in value:
        raise ValueError(f"must be a plain address with no ? or # part, like {example}")
    if not PLAIN_PATH.fullmatch(parts.path):
        raise ValueError(f"must have a plain path (letters, digits, . _ ~ - and /), like {example}")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.partition("%")[0]).is_loopback
    except ValueError:
        return False


def _redis_address(value: str) -> None:
    from redis.connection import parse_url

    parts = _split(value)
    if parts.scheme != "unix":
        if not parts.hostname:
            raise ValueError("must name a host, like redis://127.0.0.1:6379/0")
        if parts.path not in ("", "/") and not re.fullmatch(r"/[0-9]{1,5}", parts.path):
            raise ValueError(
                "must end with a database number if anything, like redis://127.0.0.1:6379/0"
            )
    try:
        parse_url(value)
    except Exception:
        raise ValueError("must be a URL that can be read, like redis://127.0.0.1:6379/0") from None


def _database_address(value: str) -> None:
    from sqlalchemy import make_url

    try:
        _split(value)
        url = make_url(value)
        url.port  # noqa: B018
    except Exception:  # the message would quote the URL, password and all
        raise ValueError(
            "must be a URL that can be read (check its host, port and [brackets])"
        ) from None
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        raise ValueError("must name a file for SQLite, like sqlite+aiosqlite:///./juragan.db")


def _range_sentence(name: str) -> str | None:
    """For a numeric setting: "must be a number from A to B (unit)"; None for the others."""
    field = Settings.model_fields.get(name)
    if field is None or field.annotation not in (int, float):
        return None
    low = next((m.ge for m in field.metadata if isinstance(m, Ge)), None)
    high = next((m.le for m in field.metadata if isinstance(m, Le)), None)
    extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
    unit = f" ({extra['unit']})" if extra.get("unit") else ""
    kind = "a whole number" if field.annotation is int else "a number"
    return f"must be {kind} from {_plain(low)} to {_plain(high)}{unit}"


def _plain(number: float | None) -> str:
    return str(int(number)) if number is not None and number == int(number) else str(number)


def load_settings(**overrides: object) -> Settings:
    """Read settings; turn pydantic's error into one sentence naming the variable (and never
    quoting its value: it may be a secret)."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        err = exc.errors()[0]
        field = str(err["loc"][0]) if err["loc"] else ""
        name = field.upper() or "a setting"
        msg = _range_sentence(field) or str(err["msg"]).removeprefix("Value error, ")
        raise ConfigError(f"{name} is malformed: {msg}.") from None
    except UnicodeDecodeError:
        raise ConfigError(
            "The .env file is not UTF-8 text: save it as UTF-8 (or remove it)."
        ) from None
    except OSError as exc:
        raise ConfigError(
            f"The .env file cannot be read: {exc.strerror or type(exc).__name__}."
        ) from None
