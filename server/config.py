"""Settings from ``FIELDWORK_*`` environment variables and an optional ``.env`` file.

Nothing here runs at import time: ``load_settings`` is called by ``create_app``.
"""

from __future__ import annotations

import base64
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from dotenv import dotenv_values

#: Locales the product ships in.
SUPPORTED_LOCALES = ("en", "zh_CN")


@dataclass(frozen=True)
class Settings:
    """The validated deployment settings (see CONTRACT.md for each variable)."""

    instance_path: Path
    database_url: str
    secret_key: str
    storage_url: str
    broker_url: str | None
    smtp_url: str | None
    mail_from: str
    fcm_credentials: str | None
    fcm_endpoint: str | None
    signing_p12: str | None
    signing_password: str | None
    tsa_url: str | None
    base_url: str
    default_locale: str
    timezone: str
    ratelimit_storage_url: str
    worker_threads: int = 4
    outbox_lease_seconds: int = 300
    webhook_allow_private: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)
    #: Company name and logo file (PNG/JPEG/SVG) printed on completion sheets; page size.
    company_name: str = "Fieldwork"
    company_logo: str | None = None
    pdf_page_size: str = "A4"
    #: OSRM base URL for recommendation travel times (unset: straight line × road factor).
    osrm_url: str | None = None
    #: Intake mailbox polled for requests (``imaps://user:pass@host:993/INBOX``); None: off.
    imap_url: str | None = None
    #: Map tile URL template of the console's map (``{z}/{x}/{y}``); empty: no tiles.
    map_tile_url: str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    #: Reverse proxies in front of the app whose ``X-Forwarded-For``/``-Proto`` we believe.
    proxy_hops: int = 0
    #: Host names requests may carry; others get 400 (RELIABILITY D6).
    trusted_hosts: tuple[str, ...] = ("localhost", "127.0.0.1")
    #: VAPID private key signing Web Push requests: the P-256 scalar, base64url (RFC 8292).
    vapid_private_key: str = field(default="", repr=False)
    #: Its public key (uncompressed point, base64url): the browser's ``applicationServerKey``.
    vapid_public_key: str = ""
    #: Who runs this server, for push services (``mailto:`` or ``https:`` URI; VAPID ``sub``).
    vapid_subject: str = "mailto:noreply@localhost"
    #: Web Push endpoints on loopback (and plain http there) are accepted: tests only.
    webpush_allow_loopback: bool = False

    def flask_config(self) -> dict[str, Any]:
        """Return the Flask/extension configuration keys these settings imply."""
        secure = self.base_url.startswith("https://")
        config: dict[str, Any] = {
            "SECRET_KEY": self.secret_key,
            "SQLALCHEMY_DATABASE_URI": self.database_url,
            "SQLALCHEMY_ENGINE_OPTIONS": engine_options(self.database_url),
            # Requests are bounded globally; upload routes set tighter limits themselves.
            "MAX_CONTENT_LENGTH": 32 * 1024 * 1024,
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "SESSION_COOKIE_SECURE": secure,
            # The __Host- prefix is only accepted by browsers on secure cookies.
            "SESSION_COOKIE_NAME": "__Host-fieldwork" if secure else "fieldwork_session",
            "PERMANENT_SESSION_LIFETIME": 12 * 3600,
            "WTF_CSRF_TIME_LIMIT": None,
            "RATELIMIT_STORAGE_URI": self.ratelimit_storage_url,
            "RATELIMIT_HEADERS_ENABLED": True,
            "BABEL_DEFAULT_LOCALE": self.default_locale,
            "BABEL_DEFAULT_TIMEZONE": self.timezone,
            "JSON_SORT_KEYS": False,
            "TRUSTED_HOSTS": list(self.trusted_hosts),
            "FIELDWORK_SETTINGS": self,
        }
        config.update(self.extra)
        return config


def engine_options(database_url: str) -> dict[str, Any]:
    """Return SQLAlchemy engine options suited to the database in ``database_url``."""
    if database_url.startswith("sqlite"):
        # A generous timeout for the sqlite3 driver; PRAGMA busy_timeout is set on connect too.
        return {"connect_args": {"timeout": 30}}
    # No pool_pre_ping: its SELECT 1 is a round trip on every request; connections the
    # server closed are caught at checkout without one (``configure_postgresql``).
    return {"pool_size": 10, "max_overflow": 20}


def _read_environment(environ: Mapping[str, str], dotenv_path: Path) -> dict[str, str]:
    values = {k: v for k, v in dotenv_values(dotenv_path).items() if v is not None}
    values.update({k: v for k, v in environ.items() if k.startswith("FIELDWORK_")})
    return values


def _secret_key(instance_path: Path, configured: str | None) -> str:
    if configured:
        return configured
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # Created owner-readable only: the key signs sessions.
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def _vapid_private_key(instance_path: Path, configured: str | None) -> str:
    """Return the VAPID key as a base64url P-256 scalar; generate one into ``instance/``."""
    if configured:
        try:
            return _vapid_scalar(configured)
        except ValueError:
            # The value is a secret: say what is wrong, never what it is.
            raise ValueError(
                "FIELDWORK_VAPID_PRIVATE_KEY must be a P-256 private key: 32 bytes base64url "
                "(as web-push and py-vapid print it) or a PEM file's text"
            ) from None
    key_file = instance_path / "vapid_private_key"
    if key_file.exists():
        return _vapid_scalar(key_file.read_text())
    from cryptography.hazmat.primitives.asymmetric import ec

    scalar = ec.generate_private_key(ec.SECP256R1()).private_numbers().private_value
    key = base64.urlsafe_b64encode(scalar.to_bytes(32, "big")).decode().rstrip("=")
    instance_path.mkdir(parents=True, exist_ok=True)
    # Owner-readable only, like the secret key: it signs every push we send.
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def _vapid_scalar(text: str) -> str:
    """Normalise a P-256 private key (base64url scalar or PEM) to the unpadded base64url scalar."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    text = text.strip()
    if text.startswith("-----BEGIN"):
        try:
            key = serialization.load_pem_private_key(text.encode(), password=None)
        except (TypeError, ValueError):
            raise ValueError("not a PEM private key") from None
        if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
            raise ValueError("not a P-256 key")
        scalar = key.private_numbers().private_value
    else:
        if not re.fullmatch(r"[A-Za-z0-9_-]{43}=?", text):
            raise ValueError("not 32 bytes of base64url")
        scalar = int.from_bytes(base64.urlsafe_b64decode(text.rstrip("=") + "="), "big")
        ec.derive_private_key(scalar, ec.SECP256R1())  # out of range raises ValueError
    return base64.urlsafe_b64encode(scalar.to_bytes(32, "big")).decode().rstrip("=")


def _vapid_public_key(private_key: str) -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    scalar = int.from_bytes(base64.urlsafe_b64decode(private_key + "="), "big")
    point = (
        ec.derive_private_key(scalar, ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    return base64.urlsafe_b64encode(point).decode().rstrip("=")


def _vapid_subject(values: Mapping[str, Any], mail_from: str) -> str:
    configured = str(values.get("FIELDWORK_VAPID_SUBJECT") or "").strip()
    if configured:
        if not re.fullmatch(r"mailto:[^@\s]+@[^@\s]+|https://[^\s/]+(/\S*)?", configured):
            raise ValueError("FIELDWORK_VAPID_SUBJECT must be a mailto: or https: URI")
        return configured
    address = parseaddr(mail_from)[1] or "noreply@localhost"
    return f"mailto:{address}"


def _normalise_database_url(url: str) -> str:
    """Use the psycopg 3 driver for plain ``postgresql://`` URLs (SQLAlchemy's default is v2)."""
    for scheme in ("postgresql://", "postgres://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme) :]
    return url


def _sqlite_url_in_instance(url: str, instance_path: Path) -> str:
    """Resolve a relative ``sqlite:///instance/...`` URL against the project root."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith("sqlite:////") and ":memory:" not in url:
        relative = url[len(prefix) :]
        path = (instance_path.parent / relative).resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        return prefix + str(path)
    return url


def _positive_int(values: Mapping[str, Any], name: str, default: int) -> int:
    raw = values.get(name)
    if raw in (None, ""):
        return default
    try:
        number = int(raw)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a whole number, not {raw!r}") from None
    if number < 1:
        raise ValueError(f"{name} must be at least 1")
    return number


def _proxy_hops(values: Mapping[str, Any]) -> int:
    raw = values.get("FIELDWORK_PROXY_HOPS")
    if raw in (None, ""):
        return 0
    if not str(raw).isdigit() or int(raw) > 5:
        raise ValueError(f"FIELDWORK_PROXY_HOPS must be a whole number from 0 to 5, not {raw!r}")
    return int(raw)


def _trusted_hosts(values: Mapping[str, Any], base_url: str) -> tuple[str, ...]:
    """The base URL's host, loopback names, and any listed in FIELDWORK_TRUSTED_HOSTS."""
    listed = [
        h.strip().lower() for h in str(values.get("FIELDWORK_TRUSTED_HOSTS") or "").split(",")
    ]
    if any(h and not re.fullmatch(r"\.?[a-z0-9.-]+|\[[0-9a-f:]+\]", h) for h in listed):
        raise ValueError("FIELDWORK_TRUSTED_HOSTS must be host names separated by commas")
    base_host = (urlsplit(base_url).hostname or "").lower()
    return tuple(sorted({base_host, "localhost", "127.0.0.1", *listed} - {""}))


def _flag(values: Mapping[str, Any], name: str) -> bool:
    raw = str(values.get(name) or "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise ValueError(f"{name} must be true or false, not {raw!r}")


def load_settings(
    environ: Mapping[str, str] | None = None,
    project_root: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Read the settings from the environment, ``.env`` and explicit overrides."""
    root = project_root or Path(__file__).resolve().parent.parent
    values = _read_environment(os.environ if environ is None else environ, root / ".env")
    overrides = dict(overrides or {})
    for key in list(overrides):
        if key.startswith("FIELDWORK_"):
            values[key] = overrides.pop(key)
    instance_path = Path(values.get("FIELDWORK_INSTANCE_PATH", root / "instance"))
    locale = values.get("FIELDWORK_DEFAULT_LOCALE", "en")
    if locale not in SUPPORTED_LOCALES:
        raise ValueError(f"FIELDWORK_DEFAULT_LOCALE must be one of {SUPPORTED_LOCALES}")
    database_url = _sqlite_url_in_instance(
        _normalise_database_url(
            values.get("FIELDWORK_DATABASE_URL", "sqlite:///instance/fieldwork.db")
        ),
        instance_path,
    )
    base_url = values.get("FIELDWORK_BASE_URL", "http://127.0.0.1:5000").rstrip("/")
    mail_from = values.get("FIELDWORK_MAIL_FROM", "Fieldwork <noreply@localhost>")
    vapid_key = _vapid_private_key(instance_path, values.get("FIELDWORK_VAPID_PRIVATE_KEY"))
    return Settings(
        instance_path=instance_path,
        database_url=database_url,
        secret_key=_secret_key(instance_path, values.get("FIELDWORK_SECRET_KEY")),
        storage_url=values.get("FIELDWORK_STORAGE_URL", f"file://{instance_path / 'files'}"),
        broker_url=values.get("FIELDWORK_BROKER_URL") or None,
        smtp_url=values.get("FIELDWORK_SMTP_URL") or None,
        mail_from=mail_from,
        fcm_credentials=values.get("FIELDWORK_FCM_CREDENTIALS") or None,
        fcm_endpoint=values.get("FIELDWORK_FCM_ENDPOINT") or None,
        signing_p12=values.get("FIELDWORK_SIGNING_P12") or None,
        signing_password=values.get("FIELDWORK_SIGNING_PASSWORD") or None,
        tsa_url=values.get("FIELDWORK_TSA_URL") or None,
        base_url=base_url,
        default_locale=locale,
        timezone=values.get("FIELDWORK_TIMEZONE", "Asia/Shanghai"),
        ratelimit_storage_url=values.get("FIELDWORK_RATELIMIT_STORAGE_URL", "memory://"),
        worker_threads=_positive_int(values, "FIELDWORK_WORKER_THREADS", 4),
        outbox_lease_seconds=_positive_int(values, "FIELDWORK_OUTBOX_LEASE_SECONDS", 300),
        webhook_allow_private=_flag(values, "FIELDWORK_WEBHOOK_ALLOW_PRIVATE"),
        extra=overrides,
        company_name=values.get("FIELDWORK_COMPANY_NAME") or "Fieldwork",
        company_logo=values.get("FIELDWORK_COMPANY_LOGO") or None,
        pdf_page_size="Letter" if values.get("FIELDWORK_PDF_PAGE_SIZE") == "Letter" else "A4",
        osrm_url=values.get("FIELDWORK_OSRM_URL") or None,
        imap_url=values.get("FIELDWORK_IMAP_URL") or None,
        map_tile_url=values.get(
            "FIELDWORK_MAP_TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
        ),
        proxy_hops=_proxy_hops(values),
        trusted_hosts=_trusted_hosts(values, base_url),
        vapid_private_key=vapid_key,
        vapid_public_key=_vapid_public_key(vapid_key),
        vapid_subject=_vapid_subject(values, mail_from),
        webpush_allow_loopback=_flag(values, "FIELDWORK_WEBPUSH_ALLOW_LOOPBACK"),
    )
