"""One typed settings object, read from the environment (prefix ``GRIDCITY_``) and validated at start."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

PLACEHOLDER_SECRETS = frozenset({"", "changeme", "changethis", "secret", "dev-insecure-secret-key"})
DEV_SECRET = "dev-insecure-secret-key"


class Environment(StrEnum):
    """Where the process runs; only ``development`` and ``test`` accept a placeholder secret."""

    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class BasemapCrs(StrEnum):
    """Coordinate system of the basemap tiles; GCJ-02 tiles need our points shifted before display."""

    WGS84 = "WGS84"
    CGCS2000 = "CGCS2000"
    GCJ02 = "GCJ02"


class ConfigError(Exception):
    """A setting is wrong; the message is one line that names the setting."""


class Settings(BaseSettings):
    """All configuration of a gridcity process."""

    model_config = SettingsConfigDict(env_prefix="GRIDCITY_", extra="ignore", frozen=True)

    env: Environment = Environment.DEVELOPMENT
    # Empty outside production means "generate one per installation" (see bootstrap.py).
    secret_key: str = ""
    database_url: str = "sqlite:///var/gridcity.db"
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 8000
    default_locale: str = "zh_CN"
    log_level: str = "INFO"
    log_json: bool = True

    session_hours: Annotated[int, Field(ge=1, le=24 * 30)] = 12
    token_days: Annotated[int, Field(ge=1, le=365)] = 30
    lockout_threshold: Annotated[int, Field(ge=1, le=100)] = 5
    lockout_minutes: Annotated[int, Field(ge=1, le=24 * 60)] = 15
    password_min_length: Annotated[int, Field(ge=8, le=128)] = 10
    cookie_secure: bool = False
    max_request_mb: Annotated[int, Field(ge=1, le=100)] = 6
    max_upload_mb: Annotated[int, Field(ge=1, le=1000)] = 25
    # The file of the import page alone, counted as it is stored (None: max_upload_mb).
    max_import_mb: Annotated[int | None, Field(ge=1, le=1000)] = None

    basemap_url: str = ""
    basemap_crs: BasemapCrs = BasemapCrs.WGS84
    basemap_attribution: str = ""

    run_jobs_in_process: bool = True
    # Build the component map index in the background when the web app starts (decision 0011),
    # so the first map request does not wait for it.
    warm_component_index: bool = True

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if value.startswith("postgres://") or value.startswith("postgresql://"):
            value = "postgresql+psycopg://" + value.split("://", 1)[1]
        if not (value.startswith("sqlite") or value.startswith("postgresql+psycopg://")):
            raise ValueError("must start with sqlite:/// or postgresql+psycopg://")
        try:
            _ = make_url(value).port  # the port is parsed lazily; make a bad one fail here
        except (ArgumentError, ValueError) as exc:
            raise ValueError(f"is not a valid database URL ({exc})") from None
        return value

    @field_validator("default_locale")
    @classmethod
    def _known_locale(cls, value: str) -> str:
        if value not in ("zh_CN", "en"):
            raise ValueError("must be zh_CN or en")
        return value

    @model_validator(mode="after")
    def _real_secret_outside_development(self) -> Settings:
        if self.env is Environment.PRODUCTION:
            if self.secret_key.strip().lower() in PLACEHOLDER_SECRETS:
                raise ValueError(
                    "GRIDCITY_SECRET_KEY is a placeholder; set a random value of 32+ characters "
                    "(python -c 'import secrets; print(secrets.token_urlsafe(48))')"
                )
            if len(self.secret_key) < 32:
                raise ValueError("GRIDCITY_SECRET_KEY must be at least 32 characters in production")
        return self

    @property
    def is_sqlite(self) -> bool:
        """True when the embedded SQLite database is in use."""
        return self.database_url.startswith("sqlite")

    @property
    def sqlite_path(self) -> Path | None:
        """File of the SQLite database, or None for PostgreSQL or in-memory SQLite."""
        if not self.is_sqlite:
            return None
        path = self.database_url.split("///", 1)[1] if "///" in self.database_url else ""
        if not path or path == ":memory:":
            return None
        return Path(path)


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment; a bad value raises ConfigError with one clear line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "GRIDCITY_" + str(first["loc"][0]).upper() if first["loc"] else "configuration"
        message = str(first["msg"]).removeprefix("Value error, ")
        if first["loc"]:
            raise ConfigError(f"{name}: {message}") from None
        raise ConfigError(message) from None
