"""Locale and time-zone selection, and compiling the message catalogs."""

from __future__ import annotations

from pathlib import Path

from flask import current_app, request
from flask_login import current_user

TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"


def select_locale() -> str:
    """Pick the signed-in user's language, else the browser's, else the default."""
    if current_user and current_user.is_authenticated:
        return str(current_user.locale)
    best = request.accept_languages.best_match(["en", "zh_CN", "zh"]) if request else None
    if best in ("zh", "zh_CN"):
        return "zh_CN"
    return best or current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    """Pick the signed-in user's time zone, else the deployment's."""
    if current_user and current_user.is_authenticated and current_user.timezone:
        return str(current_user.timezone)
    return str(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def compile_translations() -> list[Path]:
    """Compile every ``messages.po`` into ``messages.mo`` when the source is newer."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    compiled = []
    # Folders are named as Babel spells the locales (``zh_CN`` is ``zh_Hans_CN`` to Babel).
    for po in sorted(TRANSLATIONS_DIR.glob("*/LC_MESSAGES/messages.po")):
        locale = po.parent.parent.name
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as source:
            catalog = read_po(source, locale=locale)
        with mo.open("wb") as target:
            write_mo(target, catalog)
        compiled.append(mo)
    return compiled
