"""Settings are validated at start, and a bad one is refused in one line that names it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gridcity.bootstrap import local_secret
from gridcity.config import DEV_SECRET, ConfigError, Environment, load_settings

REAL_SECRET = "k3Jq9vX2mP8sL5tR7wZ1nB4cF6hD0gYaE-uQ_iO"


@pytest.fixture(autouse=True)
def no_gridcity_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test sees only the GRIDCITY_ variables it sets itself."""
    for name in list(os.environ):
        if name.startswith("GRIDCITY_"):
            monkeypatch.delenv(name)


def refusal(**overrides: object) -> str:
    """The ConfigError message for these settings."""
    with pytest.raises(ConfigError) as caught:
        load_settings(**overrides)
    return str(caught.value)


# --- the secret key -----------------------------------------------------------------------


@pytest.mark.parametrize("placeholder", [DEV_SECRET, "changeme", "", "  Secret "])
def test_production_refuses_a_placeholder_secret(placeholder: str) -> None:
    message = refusal(env="production", secret_key=placeholder)

    assert "GRIDCITY_SECRET_KEY is a placeholder" in message


def test_production_refuses_the_default_secret_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GRIDCITY_ENV", "production")

    assert "GRIDCITY_SECRET_KEY" in refusal()


def test_development_accepts_the_placeholder_secret() -> None:
    settings = load_settings(secret_key=DEV_SECRET)

    assert settings.env is Environment.DEVELOPMENT
    assert settings.secret_key == DEV_SECRET


def test_development_without_a_secret_generates_one_per_installation(tmp_path) -> None:
    settings = load_settings(database_url=f"sqlite:///{tmp_path}/db/gridcity.db")

    first = local_secret(settings)
    again = local_secret(settings)

    assert settings.secret_key == ""
    assert first == again and len(first) >= 48 and first != DEV_SECRET
    key_file = tmp_path / "db" / "secret_key"
    assert key_file.read_text() == first
    assert key_file.stat().st_mode & 0o777 == 0o600


def test_production_refuses_a_secret_shorter_than_32_characters() -> None:
    message = refusal(env="production", secret_key="x7#" * 10)

    assert message == "GRIDCITY_SECRET_KEY must be at least 32 characters in production"


def test_production_accepts_a_long_random_secret() -> None:
    settings = load_settings(env="production", secret_key=REAL_SECRET)

    assert settings.env is Environment.PRODUCTION


# --- the database URL ---------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["postgres", "postgresql"])
def test_a_plain_postgres_url_is_normalised_to_psycopg(scheme: str) -> None:
    settings = load_settings(database_url=f"{scheme}://city:pw@db.example:5432/gridcity")

    assert settings.database_url == "postgresql+psycopg://city:pw@db.example:5432/gridcity"
    assert not settings.is_sqlite


def test_an_unsupported_database_is_refused_naming_the_variable() -> None:
    message = refusal(database_url="mysql://x")

    assert message == ("GRIDCITY_DATABASE_URL: must start with sqlite:/// or postgresql+psycopg://")


def test_the_sqlite_file_is_read_from_the_url() -> None:
    assert load_settings(database_url="sqlite:///var/city.db").sqlite_path == Path("var/city.db")
    assert load_settings(database_url="sqlite:///:memory:").sqlite_path is None
    assert load_settings(database_url="postgresql://h/db").sqlite_path is None


# --- other settings -----------------------------------------------------------------------


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_the_known_locales_are_accepted(locale: str) -> None:
    assert load_settings(default_locale=locale).default_locale == locale


def test_an_unknown_locale_is_refused() -> None:
    assert refusal(default_locale="fr") == "GRIDCITY_DEFAULT_LOCALE: must be zh_CN or en"


def test_settings_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRIDCITY_PORT", "9001")
    monkeypatch.setenv("GRIDCITY_DATABASE_URL", "postgres://h/db")

    settings = load_settings()

    assert settings.port == 9001
    assert settings.database_url == "postgresql+psycopg://h/db"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("GRIDCITY_PORT", "notanumber"),
        ("GRIDCITY_PORT", "70000"),
        ("GRIDCITY_SESSION_HOURS", "0"),
        ("GRIDCITY_ENV", "staging"),
        ("GRIDCITY_BASEMAP_CRS", "BD09"),
        ("GRIDCITY_DEFAULT_LOCALE", "fr"),
    ],
)
def test_a_config_error_is_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)

    message = refusal()

    assert "\n" not in message
    assert message.startswith(f"{variable}: ")
    assert len(message) > len(variable) + 2
