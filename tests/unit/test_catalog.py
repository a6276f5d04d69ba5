"""The Chinese interface is complete: every message the code can show has a zh_CN translation."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir

from gridcity.web.i18n import merged_catalog, translations

ROOT = Path(__file__).resolve().parents[2]
# Refusal classes take (code, message): the message is their second argument.
KEYWORDS = {
    "_": None,
    "gettext_": None,
    "N_": None,
    **dict.fromkeys(
        ("DomainError", "InvalidInput", "NotFound", "Forbidden", "Conflict", "Unauthenticated"),
        (2,),
    ),
}
METHODS = [
    ("src/gridcity/**.py", "python"),
    ("src/gridcity/web/ui/templates/**.html", "jinja2"),
]
OPTIONS = {"src/gridcity/web/ui/templates/**.html": {"extensions": "jinja2.ext.i18n"}}


def _messages() -> dict[str, str]:
    found: dict[str, str] = {}
    for filename, _line, message, _comments, _context in extract_from_dir(
        ROOT, METHODS, options_map=OPTIONS, keywords=KEYWORDS, strip_comment_tags=True
    ):
        text = message if isinstance(message, str) else message[0]
        if text:
            found.setdefault(text, filename)
    return found


def test_every_shown_message_has_a_chinese_translation() -> None:
    catalog = merged_catalog("zh_CN")
    missing = sorted(
        f"{where}: {text!r}"
        for text, where in _messages().items()
        if text not in catalog or not catalog[text].string
    )
    assert not missing, "untranslated messages:\n" + "\n".join(missing)


def test_translations_keep_their_placeholders() -> None:
    for message in merged_catalog("zh_CN"):
        if message.id and "%(" in message.id:
            for name in ("%(" + p for p in message.id.split("%(")[1:]):
                placeholder = name[: name.index(")") + 2]
                assert placeholder in message.string, (message.id, placeholder)


def test_the_english_interface_uses_the_msgids_themselves() -> None:
    assert translations("en").gettext("Sign in") == "Sign in"
    assert translations("zh_CN").gettext("Sign in") == "登录"
