"""Poll the intake mailbox (``FIELDWORK_IMAP_URL``) and turn e-mails into work orders.

``imaps://user:pass@host:993/INBOX`` uses implicit TLS; ``imap://user:pass@host:143/INBOX``
upgrades with STARTTLS and refuses a server that does not offer it. Certificates are
verified (system trust store unless a context is passed). Unread messages are fetched
without marking them; each is handled and committed on its own, then flagged as seen. A
crash between the two reads the message again, and its Message-ID (unique in
``intake_messages``) makes the second reading a no-op: one e-mail, one work order.
"""

from __future__ import annotations

import functools
import imaplib
import logging
import re
import ssl
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import unquote, urlsplit

import jinja2
from flask import current_app
from sqlalchemy.exc import IntegrityError

from server.extensions import blob_store, db
from server.jobs.mail import deliver_email
from server.jobs.relay import PermanentFailure, deliver_once, task
from server.models import OutboxMessage, WorkOrder
from server.notify.email import (
    OutgoingEmail,
    create_email_environment,
    render_email,
)
from server.services.customer_portal import issue_customer_link
from server.services.intake import parse_email, receive_email

log = logging.getLogger("fieldwork.intake")

#: Messages handled per poll (the rest wait for the next one).
BATCH = 50
#: Seconds to wait for the IMAP server.
TIMEOUT = 30
DEFAULT_PORTS = {"imap": 143, "imaps": 993}


class MailboxError(Exception):
    """The mailbox URL is wrong or the server refused us."""


@dataclass(frozen=True)
class MailboxAddress:
    """Where the intake mailbox is and how to sign in."""

    scheme: str
    host: str
    port: int
    username: str
    password: str
    mailbox: str


def parse_mailbox_url(url: str) -> MailboxAddress:
    """Parse ``imap[s]://user:pass@host[:port][/MAILBOX]`` (user and password percent-encoded)."""
    parts = urlsplit(url)
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise MailboxError("FIELDWORK_IMAP_URL must look like imaps://user:pass@host:993/INBOX")
    if not parts.username or parts.password is None:
        raise MailboxError("FIELDWORK_IMAP_URL needs a user name and a password")
    return MailboxAddress(
        scheme=parts.scheme,
        host=parts.hostname,
        port=parts.port or DEFAULT_PORTS[parts.scheme],
        username=unquote(parts.username),
        password=unquote(parts.password),
        mailbox=unquote(parts.path.lstrip("/")) or "INBOX",
    )


def connect(address: MailboxAddress, ssl_context: ssl.SSLContext | None = None) -> imaplib.IMAP4:
    """Open a TLS-protected, signed-in IMAP connection with the mailbox selected."""
    context = ssl_context or ssl.create_default_context()
    try:
        if address.scheme == "imaps":
            client: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                address.host, address.port, ssl_context=context, timeout=TIMEOUT
            )
        else:
            client = imaplib.IMAP4(address.host, address.port, timeout=TIMEOUT)
            if "STARTTLS" not in client.capabilities:
                client.shutdown()
                raise MailboxError("the IMAP server does not offer STARTTLS; use imaps://")
            client.starttls(ssl_context=context)
        client.login(address.username, address.password)
        status, _ = client.select(_quote(address.mailbox))
    except (imaplib.IMAP4.error, OSError) as error:
        raise MailboxError(f"IMAP: {error}") from error
    if status != "OK":
        client.logout()
        raise MailboxError(f"IMAP: cannot open mailbox {address.mailbox!r}")
    return client


def _quote(mailbox: str) -> str:
    return '"' + mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _fetch(client: imaplib.IMAP4, uid: bytes) -> bytes | None:
    status, data = client.uid("FETCH", uid.decode(), "(BODY.PEEK[])")
    if status != "OK":
        return None
    for item in data:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
            return item[1]
    return None


def _domain() -> str:
    base_url = current_app.config["FIELDWORK_SETTINGS"].base_url
    return re.sub(r"[^A-Za-z0-9.-]", "", urlsplit(base_url).hostname or "") or "localhost"


def poll_mailbox(
    url: str, *, ssl_context: ssl.SSLContext | None = None, limit: int = BATCH
) -> dict[str, int]:
    """Read the unread e-mails of the mailbox once; return how many of each outcome.

    Commits after each e-mail (this is a job: an edge), before flagging it as seen.
    """
    address = parse_mailbox_url(url)
    counts = {"new_order": 0, "reply": 0, "duplicate": 0, "failed": 0}
    client = connect(address, ssl_context)
    try:
        status, data = client.uid("SEARCH", None, "UNSEEN")
        uids = data[0].split()[:limit] if status == "OK" and data and data[0] else []
        store, domain = blob_store(), _domain()
        for uid in uids:
            raw = _fetch(client, uid)
            if raw is None:
                counts["failed"] += 1
                continue
            try:
                outcome = receive_email(parse_email(raw), store, domain=domain)
                db.session.commit()
                kind = outcome.kind
            except IntegrityError:
                db.session.rollback()  # another poller read it at the same moment
                kind = "duplicate"
            except Exception:  # noqa: BLE001 - one bad e-mail must not block the others
                db.session.rollback()
                log.exception("intake e-mail uid %s could not be handled; left unread", uid)
                counts["failed"] += 1
                continue
            counts[kind] += 1
            client.uid("STORE", uid.decode(), "+FLAGS", "(\\Seen)")
    finally:
        try:
            client.logout()
        except (imaplib.IMAP4.error, OSError):
            pass
    return counts


def poll_imap_job(now: datetime) -> int:
    """Scheduler job ``intake.imap``: poll the mailbox when one is configured."""
    url = current_app.config["FIELDWORK_SETTINGS"].imap_url
    if not url:
        return 0
    counts = poll_mailbox(url)
    return counts["new_order"] + counts["reply"]


# --- The acknowledgement ----------------------------------------------------------------------


@functools.cache
def _environment() -> jinja2.Environment:
    return create_email_environment()


@task("intake_ack")
def intake_ack(message: OutboxMessage) -> None:
    """Answer an e-mailed request: its number in the subject, a link to its page, once."""
    order = db.session.get(WorkOrder, message.work_order_id) if message.work_order_id else None
    if order is None:
        raise PermanentFailure("the work order no longer exists")
    payload = message.payload
    address = str(payload["to"])
    settings = current_app.config["FIELDWORK_SETTINGS"]
    language = "zh_CN" if str(payload.get("locale", "")).startswith("zh") else "en"

    def send() -> tuple[str, str | None]:
        link = issue_customer_link(order, None)
        context = {
            "customer_name": payload.get("name") or address,
            "order_number": order.number,
            "title": order.title,
            "page_url": f"{settings.base_url}{link.path}",
        }
        subject, text, html = render_email(_environment(), "intake_ack", context, language)
        references = " ".join(str(ref) for ref in payload.get("references", []))[:900]
        email = OutgoingEmail(
            to=[address],
            subject=subject,
            text=text,
            html=html,
            message_id=str(payload["ack_message_id"]),
            headers={
                "In-Reply-To": str(payload.get("in_reply_to", "")),
                "References": references,
                "Auto-Submitted": "auto-replied",
            },
        )
        return deliver_email(email)

    deliver_once(message, "email", address, send)
