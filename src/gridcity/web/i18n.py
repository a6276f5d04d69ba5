"""gettext catalogs (zh_CN first, English second) and the locale of the current request.

Msgids are English. Each feature keeps its Chinese strings in its own catalog file,
``locale/zh_CN/<feature>.po``; at first use the files of a locale are merged and compiled
in memory, so there is no build step and never a stale ``.mo``.
"""

from __future__ import annotations

import gettext
from contextvars import ContextVar
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES = ("zh_CN", "en")
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"

current_locale: ContextVar[str] = ContextVar("current_locale", default="zh_CN")


def catalog_files(locale: str) -> list[Path]:
    """The per-feature .po files of a locale."""
    return sorted((LOCALE_DIR / locale).glob("*.po"))


def merged_catalog(locale: str) -> Catalog:
    """All feature catalogs of a locale as one; a msgid defined twice is an error."""
    merged = Catalog(locale=locale)
    for path in catalog_files(locale):
        with path.open("rb") as fh:
            part = read_po(fh, locale=locale)
        for message in part:
            if not message.id:
                continue
            if message.id in merged and merged[message.id].string != message.string:
                raise ValueError(f"{path.name}: msgid {message.id!r} is translated twice")
            merged.add(message.id, message.string)
    return merged


@cache
def translations(locale: str) -> gettext.NullTranslations:
    """Compiled catalog for a locale; English msgids are the fallback."""
    files = catalog_files(locale)
    if not files:
        return gettext.NullTranslations()
    buffer = BytesIO()
    write_mo(buffer, merged_catalog(locale))
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def gettext_(message: str) -> str:
    """Translate into the current request's locale."""
    return translations(current_locale.get()).gettext(message)


def ngettext_(singular: str, plural: str, n: int) -> str:
    """Plural-aware translation into the current request's locale."""
    return translations(current_locale.get()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated later, where it is shown."""
    return message


def pick_locale(cookie: str | None, user_locale: str | None, default: str) -> str:
    """The explicit choice (cookie) wins, then the user's setting, then the city default."""
    for candidate in (cookie, user_locale, default):
        if candidate in LOCALES:
            return candidate
    return "zh_CN"
