"""Every console string has a Simplified Chinese translation."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "server" / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None}


def console_messages() -> set[str]:
    found: set[str] = set()
    for folder, method in (("server/console", "python"), ("templates/console", "jinja2")):
        pattern = "**.py" if method == "python" else "**.html"
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / folder,
            method_map=[(pattern, method)],
            options_map={pattern: {"extensions": "jinja2.ext.i18n"}},
            keywords=KEYWORDS,
        ):
            found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_console_string_is_translated_to_chinese():
    with CATALOG.open("rb") as source:
        catalog = read_po(source, locale="zh_Hans_CN")
    messages = console_messages()
    assert len(messages) > 200
    missing = sorted(m for m in messages if m and not (m in catalog and catalog[m].string))
    assert missing == []
