"""Render, build and send e-mail: SMTP when configured, else `.eml` files in an outbox folder.

Plain Python on the standard library's ``email`` and ``smtplib`` plus Jinja2: no Flask
request, no database. The outbox relay's e-mail task renders with :func:`render_email`, sends
with :func:`send_email` and records the returned Message-ID, the de-duplication key of the
delivery (pass the same ``message_id`` again when a delivery is retried).
"""

from __future__ import annotations

import logging
import os
import re
import smtplib
import ssl
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import format_datetime, getaddresses, make_msgid, parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import jinja2

logger = logging.getLogger(__name__)

#: The repository's ``templates/`` folder; e-mail templates live in its ``email/`` folder.
TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"
#: Language used when a template has no version in the recipient's language.
FALLBACK_LOCALE = "en"
#: Default ports of the two URL schemes: plain SMTP (STARTTLS when offered) and implicit TLS.
DEFAULT_PORTS = {"smtp": 25, "smtps": 465}
#: The email package's default policy (RFC 2047 headers), but bodies kept 7-bit clean
#: (base64 or quoted-printable) so that no server needs 8BITMIME.
POLICY = default_policy.clone(cte_type="7bit")
#: Headers build_message sets itself; ``OutgoingEmail.headers`` may not override them.
RESERVED_HEADERS = frozenset({"from", "to", "cc", "bcc", "subject", "date", "message-id"})


@dataclass(frozen=True)
class Attachment:
    """A file attached to an e-mail."""

    filename: str
    content_type: str
    data: bytes

    def __post_init__(self) -> None:
        if self.content_type.count("/") != 1:
            raise ValueError(f"content type must be type/subtype: {self.content_type!r}")


@dataclass(frozen=True)
class OutgoingEmail:
    """One e-mail to send: recipients, rendered bodies, attachments and extra headers."""

    #: Recipient addresses, bare or with a display name (``张三 <zhang@example.com>``).
    to: Sequence[str]
    subject: str
    text: str
    html: str | None
    attachments: Sequence[Attachment] = ()
    #: Extra headers such as ``Reply-To`` or ``Auto-Submitted``.
    headers: Mapping[str, str] = field(default_factory=dict)
    #: The Message-ID recorded for this delivery; made from the sender's domain when None.
    message_id: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.to, str):
            raise TypeError("to must be a sequence of addresses, not a string")
        if not self.to:
            raise ValueError("an e-mail needs at least one recipient")
        reserved = RESERVED_HEADERS.intersection(name.lower() for name in self.headers)
        if reserved:
            raise ValueError(f"headers set by build_message: {sorted(reserved)}")


class EmailError(Exception):
    """An e-mail could not be delivered; ``retryable`` says whether trying later may help."""

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        refused: Mapping[str, tuple[int, bytes]] | None = None,
    ) -> None:
        super().__init__(message)
        #: True for a server that is down or answered 4xx; False for a permanent 5xx.
        self.retryable = retryable
        #: Recipients the server refused, with its code and reply.
        self.refused: Mapping[str, tuple[int, bytes]] = refused or {}


def create_email_environment(templates_dir: Path = TEMPLATES_DIR) -> jinja2.Environment:
    """Create a Jinja environment for the e-mail templates outside a Flask app.

    Whitespace handling is Jinja's default, as in Flask's environment, so a template renders
    the same in both; a missing context key is an error here rather than an empty string.
    """
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",)),
        undefined=jinja2.StrictUndefined,
    )


def render_email(
    env: jinja2.Environment, template: str, context: Mapping[str, Any], locale: str
) -> tuple[str, str, str]:
    """Render an e-mail template into its subject, plain text and HTML.

    ``templates/email/<template>.<locale>.txt`` sets the subject with
    ``{% set subject %}…{% endset %}`` and renders the text body; ``<template>.<locale>.html``
    renders the HTML body with ``subject`` added to its context. A locale without both files
    falls back to its language (``zh`` for ``zh_CN``), then to English.
    """
    text_template, html_template = _select_templates(env, template, locale)
    if not _autoescaped(env, html_template.name or ""):
        raise ValueError(f"{html_template.name} must be rendered with autoescaping on")
    module = text_template.make_module(dict(context))
    raw_subject = getattr(module, "subject", None)
    if raw_subject is None:
        raise ValueError(f"{text_template.name} sets no subject")
    subject = " ".join(str(raw_subject).split())
    # Optional sections leave blank lines behind; more than one in a row is never meant.
    text = re.sub(r"\n[ \t]*\n(?:[ \t]*\n)+", "\n\n", str(module)).strip() + "\n"
    html = html_template.render({**context, "subject": subject}).strip() + "\n"
    return subject, text, html


def build_message(email: OutgoingEmail, mail_from: str) -> EmailMessage:
    """Build the MIME message: text and HTML as alternatives, attachments alongside."""
    message = EmailMessage(policy=POLICY)
    message["From"] = mail_from
    message["To"] = ", ".join(email.to)
    message["Subject"] = email.subject
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = email.message_id or make_msgid(domain=_sender_domain(mail_from))
    for name, value in email.headers.items():
        message[name] = value
    message.set_content(email.text)
    if email.html is not None:
        message.add_alternative(email.html, subtype="html")
    for attachment in email.attachments:
        maintype, subtype = attachment.content_type.split("/")
        message.add_attachment(
            attachment.data, maintype=maintype, subtype=subtype, filename=attachment.filename
        )
    # The email package copies MIME-Version into every part it wraps; it belongs on top only.
    for part in message.walk():
        if part is not message:
            del part["MIME-Version"]
    return message


def send_email(
    email: OutgoingEmail,
    *,
    smtp_url: str | None,
    mail_from: str,
    outbox_dir: Path,
    timeout: float = 30,
    ssl_context: ssl.SSLContext | None = None,
) -> str:
    """Send an e-mail over SMTP, or save it to ``outbox_dir`` without ``smtp_url``.

    ``smtp://user:pass@host:port`` speaks plain SMTP (port 25) and upgrades with STARTTLS
    when the server offers it; ``smtps://`` uses implicit TLS (port 465). User and password
    are percent-decoded; there is no login without them. TLS verifies certificates with
    ``ssl_context``, by default the system's trust store. Returns the Message-ID.

    Raises:
        EmailError: the server is unreachable or refused the message.
    """
    message = build_message(email, mail_from)
    message_id = str(message["Message-ID"])
    if not smtp_url:
        path = _save_to_outbox(message, outbox_dir)
        logger.info("e-mail %s saved to %s", message_id, path)
        return message_id
    _deliver(message, email, smtp_url, mail_from, timeout, ssl_context)
    logger.info("e-mail %s delivered to %d recipient(s)", message_id, len(email.to))
    return message_id


def _select_templates(
    env: jinja2.Environment, template: str, locale: str
) -> tuple[jinja2.Template, jinja2.Template]:
    locale = locale.replace("-", "_")
    candidates = dict.fromkeys((locale, locale.split("_")[0], FALLBACK_LOCALE))
    for candidate in candidates:
        try:
            return (
                env.get_template(f"email/{template}.{candidate}.txt"),
                env.get_template(f"email/{template}.{candidate}.html"),
            )
        except jinja2.TemplateNotFound:
            continue
    raise jinja2.TemplateNotFound(f"email/{template}.{FALLBACK_LOCALE}.txt")


def _autoescaped(env: jinja2.Environment, name: str) -> bool:
    return bool(env.autoescape(name) if callable(env.autoescape) else env.autoescape)


def _sender_domain(mail_from: str) -> str:
    return parseaddr(mail_from)[1].rpartition("@")[2] or "localhost"


def _save_to_outbox(message: EmailMessage, outbox_dir: Path) -> Path:
    outbox_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", str(message["Message-ID"]).strip("<> "))
    target = outbox_dir / f"{stamp}-{slug}.eml"
    # A hidden temporary name that does not end in .eml: readers never see half a message.
    fd, temporary = tempfile.mkstemp(dir=outbox_dir, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(message.as_bytes())
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def _deliver(
    message: EmailMessage,
    email: OutgoingEmail,
    smtp_url: str,
    mail_from: str,
    timeout: float,
    ssl_context: ssl.SSLContext | None,
) -> None:
    url = urlsplit(smtp_url)
    if url.scheme not in DEFAULT_PORTS or not url.hostname:
        raise ValueError("the SMTP URL must look like smtp://user:pass@host:port or smtps://…")
    host, port = url.hostname, url.port or DEFAULT_PORTS[url.scheme]
    context = ssl_context or ssl.create_default_context()
    sender = parseaddr(mail_from)[1]
    recipients = [address for _, address in getaddresses(list(email.to))]
    client: smtplib.SMTP
    try:
        if url.scheme == "smtps":
            client = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
        else:
            client = smtplib.SMTP(host, port, timeout=timeout)
        with client:
            client.ehlo()
            if url.scheme == "smtp" and client.has_extn("starttls"):
                client.starttls(context=context)
                client.ehlo()
            if url.username:
                client.login(unquote(url.username), unquote(url.password or ""))
            refused = client.send_message(message, from_addr=sender, to_addrs=recipients)
    except smtplib.SMTPRecipientsRefused as error:
        temporary = all(400 <= code < 500 for code, _ in error.recipients.values())
        raise EmailError(
            f"{host} refused every recipient: {error.recipients}",
            retryable=temporary,
            refused=error.recipients,
        ) from error
    except smtplib.SMTPResponseException as error:
        reply = error.smtp_error
        if isinstance(reply, bytes):
            reply = reply.decode("utf-8", "replace")
        raise EmailError(
            f"{host} answered {error.smtp_code} {reply}",
            retryable=not 500 <= error.smtp_code < 600,
        ) from error
    except smtplib.SMTPNotSupportedError as error:
        raise EmailError(f"{host}: {error}", retryable=False) from error
    except OSError as error:  # refused, timed out, dropped, TLS failed: try again later
        raise EmailError(f"cannot talk to {host}:{port}: {error}", retryable=True) from error
    if refused:
        # Some recipients have the message: sending it again would duplicate it for them.
        raise EmailError(
            f"{host} accepted the message but refused {refused}", retryable=False, refused=refused
        )
