"""Configuration shared by the bot and the worker, read from env vars and `.env`."""

from __future__ import annotations

import sys
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from core.crontab import cron_trigger

IdSet = Annotated[frozenset[int], NoDecode]
# SQLAlchemy's own defaults for a connection pool.
POOL_SIZE, MAX_OVERFLOW = 5, 10
# Seconds a SQLite statement waits for another process's lock before it fails.
SQLITE_BUSY_TIMEOUT_S = 30.0


class Settings(BaseSettings):
    """Every knob of the product; names match the env vars (case-insensitive)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    # arq, with the seed's defaults
    arq_max_jobs: int = Field(10, ge=1)
    arq_job_timeout: int = Field(300, ge=1)
    arq_max_tries: int = Field(3, ge=1)
    arq_poll_delay: float = Field(0.5, gt=0)
    arq_queue_name: str = Field("arq:queue", min_length=1)
    arq_burst_mode: bool = False
    redis_url: str | None = None
    # Redis high availability: the sentinels to ask which server is the master (REDIS_URL then
    # gives only the password, the database number and TLS; arq has no URL form for Sentinel).
    redis_sentinels: Annotated[tuple[tuple[str, int], ...], NoDecode] = ()
    redis_sentinel_master: str = Field("mymaster", min_length=1)
    # TLS (rediss://) against a private certificate authority: its certificate file.
    redis_tls_ca_file: Path | None = None
    # Bounds every Redis connect, command and pipeline, so a command answers "queue unavailable"
    # quickly.
    redis_timeout: float = Field(1.5, gt=0, le=60)
    # How long a starting process waits for Redis and the database before giving up (exit 2).
    startup_timeout: float = Field(30.0, ge=0, le=3600)
    # A worker whose heartbeat is older than this is gone; the sweeper (in every worker, every
    # SWEEP_INTERVAL) puts its jobs back on the queue.
    worker_lost_after: float = Field(30.0, ge=1)
    sweep_interval: float = Field(15.0, gt=0)

    # Telegram
    bot_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org"

    # VK
    vk_token: SecretStr | None = None
    # More tokens, comma-separated: each keeps its own pace, so N tokens parse N times as fast.
    vk_tokens: SecretStr | None = None
    vk_api_url: str = "https://api.vk.ru/method"
    vk_api_version: str = "5.199"
    vk_rps: float = Field(3.0, gt=0, le=100)
    vk_timeout: float = Field(20.0, gt=0)

    # storage
    data_dir: Path = Path("data")
    database_url: str | None = None
    # PostgreSQL connections per process: the pool, and how many more it may open at a peak
    # (a worker needs about ARQ_MAX_JOBS + 2 at once; the server's max_connections bounds all).
    db_pool_size: int = Field(POOL_SIZE, ge=1, le=1000)
    db_max_overflow: int = Field(MAX_OVERFLOW, ge=0, le=1000)
    # SQLite only: how long a write waits for another process's lock (the bot's, a backup's)
    # before it fails; a job then retries, a hook keeps trying (worker/resilience.py).
    sqlite_busy_timeout: float = Field(SQLITE_BUSY_TIMEOUT_S, gt=0, le=3600)

    # access and notifications
    admin_ids: IdSet = frozenset()
    allowed_user_ids: IdSet = frozenset()
    allowed_chat_ids: IdSet = frozenset()
    notify_chat_id: int | None = None
    # The language of texts with no person to take it from (a user's own choice wins).
    default_language: str = "ru"

    # behaviour
    parse_default_limit: int = Field(100, ge=1)
    parse_max_limit: int = Field(100_000, ge=1)
    progress_interval: float = Field(2.0, ge=0)
    auto_analyze: bool = True
    analysis_chunk_size: int = Field(1000, ge=10, le=100_000)
    parse_lookback_days: int = Field(30, ge=0, le=3650)
    log_level: str = "INFO"
    # Reports count days and hours in this zone (and the scheduler will run in it).
    timezone: str = "Europe/Moscow"
    # Telegram's upload limit for bots; bigger report files are zipped, then split.
    upload_limit_bytes: int = Field(50 * 1024 * 1024, ge=1024)
    # /cleanup deletes comments older than this many days (by their VK publication date).
    retention_days: int = Field(365, ge=1, le=36500)
    # backup_database keeps this many backups in DATA_DIR/backups/, removing older ones.
    backup_keep: int = Field(7, ge=1, le=10_000)

    # The bot's scheduler: crontab rules in TIMEZONE ("0 9 * * *"), empty = off.
    schedule_statistics: str = "0 4 * * *"
    schedule_backup: str = "0 3 * * *"
    schedule_cleanup: str = ""
    schedule_digest: str = "0 9 * * *"
    # A slot missed while the bot was down still runs at start if it is at most this old (s).
    schedule_grace: int = Field(3600, ge=1, le=7 * 24 * 3600)
    # /watch intervals are at least this many minutes.
    watch_min_minutes: int = Field(60, ge=1, le=7 * 24 * 60)

    @field_validator("admin_ids", "allowed_user_ids", "allowed_chat_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: Any) -> Any:
        """Accept "1,2 3" as well as a JSON-free list, since env vars are plain strings."""
        if isinstance(value, str):
            parts = value.replace(",", " ").split()
            try:
                return frozenset(int(p) for p in parts)
            except ValueError:
                raise ValueError("expected integer ids separated by commas") from None
        return value

    @field_validator("redis_sentinels", mode="before")
    @classmethod
    def _split_sentinels(cls, value: Any) -> Any:
        """`host:port,host:port` (an IPv6 host in brackets) into (host, port) pairs."""
        if not isinstance(value, str):
            return value
        pairs: list[tuple[str, int]] = []
        for item in (part.strip() for part in value.split(",") if part.strip()):
            host, _sep, port = item.rpartition(":")
            host = host.strip("[]")
            if not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError("expected host:port pairs separated by commas")
            pairs.append((host, int(port)))
        return tuple(pairs)

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("expected a time zone name such as Europe/Moscow or UTC") from None
        return value

    @field_validator(
        "schedule_statistics", "schedule_backup", "schedule_cleanup", "schedule_digest"
    )
    @classmethod
    def _check_crontab(cls, value: str) -> str:
        rule = " ".join(value.split())
        if rule:
            try:
                cron_trigger(rule, "UTC")
            except ValueError as error:
                raise ValueError(
                    f"expected a crontab rule such as 0 9 * * * (empty: off): {error}"
                ) from None
        return rule

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @field_validator("default_language")
    @classmethod
    def _check_language(cls, value: str) -> str:
        language = value.strip().lower()
        if language not in {"ru", "en"}:
            raise ValueError("expected ru or en")
        return language

    @field_validator("telegram_api_url", "vk_api_url")
    @classmethod
    def _check_http_url(cls, value: str) -> str:
        """A URL without a scheme fails later inside a library, with the token in its text."""
        return _checked_url(value, ("http", "https"), "an http(s):// URL with a host")

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        expected = "a redis://, rediss:// or unix:// URL"
        return _checked_url(value, ("redis", "rediss", "unix"), expected, need_host=False)

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        schemes = ("sqlite+aiosqlite", "postgresql+asyncpg")
        expected = "a sqlite+aiosqlite:// or postgresql+asyncpg:// URL"
        return _checked_url(value, schemes, expected, need_host=False)

    @field_validator("log_level")
    @classmethod
    def _check_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("expected DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return level

    @cached_property
    def db_url(self) -> str:
        """The SQLAlchemy URL: DATABASE_URL, else a SQLite file under DATA_DIR."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'vkcomments.sqlite3').resolve()}"

    @cached_property
    def vk_pool(self) -> list[str]:
        """Every VK token: VK_TOKEN and those of VK_TOKENS, each once, in that order."""
        given = [self.vk_token.get_secret_value()] if self.vk_token else []
        if self.vk_tokens:
            given += self.vk_tokens.get_secret_value().split(",")
        return list(dict.fromkeys(t.strip() for t in given if t.strip()))

    def secrets(self) -> list[str]:
        """Every secret the settings hold: tokens and the passwords inside service URLs."""
        values = [self.bot_token.get_secret_value()] if self.bot_token else []
        values += self.vk_pool
        for url in (self.redis_url, self.database_url):
            password = urlsplit(url).password if url else None
            if password:
                values.append(password)
        return values

    def is_admin(self, user_id: int) -> bool:
        return user_id in self.admin_ids

    def may_use(self, user_id: int, chat_id: int) -> bool:
        """Admins always; others by user or chat allow-list."""
        return (
            user_id in self.admin_ids
            or user_id in self.allowed_user_ids
            or chat_id in self.allowed_chat_ids
        )


def _checked_url(
    value: str, schemes: tuple[str, ...], expected: str, *, need_host: bool = True
) -> str:
    """The URL unchanged if its scheme is one of `schemes` (and it names a host);
    the error never repeats the value, which may hold a password."""
    try:
        parts = urlsplit(value.strip())
        port_ok = parts.port is None or parts.port > 0  # reading .port validates it
    except ValueError:
        raise ValueError(f"expected {expected}") from None
    if parts.scheme.lower() not in schemes or not port_ok or (need_host and not parts.hostname):
        raise ValueError(f"expected {expected}")
    return value.strip()


def describe_error(error: ValidationError) -> str:
    """One line naming the first bad variable and what is wrong, never its value."""
    first = error.errors()[0]
    name = str(first["loc"][0]).upper() if first["loc"] else "configuration"
    message = str(first["msg"]).removeprefix("Value error, ")
    return f"configuration error: {name}: {message}"


def load_settings(**overrides: Any) -> Settings:
    """Read settings; a bad value stops the process with one line and exit code 2."""
    try:
        return Settings(**overrides)
    except ValidationError as error:
        print(describe_error(error), file=sys.stderr)
        raise SystemExit(2) from None
