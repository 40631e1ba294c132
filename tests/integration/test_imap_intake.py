"""E-mail intake against a real Dovecot IMAP server on loopback (Debian's dovecot-imapd).

The test writes its own Dovecot configuration (STARTTLS with a throw-away certificate,
static passdb/userdb, a maildir) and runs ``dovecot -F -c CONFIG`` as a subprocess. As a
normal user Dovecot runs rootless (its internal and login users are that user, no chroot);
as root it drops to Debian's ``dovecot``/``dovenull`` users, whose maildir then lives in a
directory they own (pytest's tmp_path is private to root).
"""

from __future__ import annotations

import datetime as dt
import getpass
import imaplib
import io
import ipaddress
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from server.extensions import db
from server.jobs import relay
from server.models import (
    Attachment,
    Channel,
    Comment,
    Contact,
    IntakeMessage,
    OutboxMessage,
    WorkOrder,
)

USER, PASSWORD = "intake", "s3cret-intake"

# make test-system-deps installs it; under CI a missing tool fails instead of skipping.
pytestmark = pytest.mark.skipif(
    shutil.which("dovecot") is None and not os.environ.get("CI"), reason="dovecot not installed"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """Write a certificate for 127.0.0.1/localhost and its key; return their paths."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


class Mailbox:
    """The running Dovecot: its URL, a client context trusting it, and a way to deliver."""

    def __init__(self, port: int, cafile: Path) -> None:
        self.port = port
        self.url = f"imap://{USER}:{PASSWORD}@127.0.0.1:{port}/INBOX"
        self.context = ssl.create_default_context(cafile=str(cafile))

    def client(self) -> imaplib.IMAP4:
        client = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        client.starttls(ssl_context=self.context)
        client.login(USER, PASSWORD)
        client.select("INBOX")
        return client

    def deliver(self, message: EmailMessage) -> None:
        """Put a message in the inbox, unread (IMAP APPEND)."""
        client = self.client()
        try:
            status, _ = client.append("INBOX", None, None, message.as_bytes())
            assert status == "OK"
        finally:
            client.logout()

    def mark_all_unread(self) -> None:
        client = self.client()
        try:
            client.store("1:*", "-FLAGS", "(\\Seen)")
        finally:
            client.logout()


@pytest.fixture
def mailbox(tmp_path):
    """Run Dovecot on a free loopback port for one test."""
    root = tmp_path / "dovecot"
    (root / "state").mkdir(parents=True)
    # Dovecot's unix sockets live under base_dir; pytest's tmp paths (longer under xdist)
    # overflow the 108-byte socket path limit, so the run folder is a short one of its own.
    run_dir = Path(tempfile.mkdtemp(prefix="dc-"))
    cert, key = self_signed_certificate(root)
    port = free_port()
    separate_mail_root = None
    if os.geteuid() == 0:
        internal, login = pwd.getpwnam("dovecot"), "dovenull"
        separate_mail_root = Path(tempfile.mkdtemp(prefix="fieldwork-imap-"))
        os.chown(separate_mail_root, internal.pw_uid, internal.pw_gid)
        mail_root, uid, gid = separate_mail_root, internal.pw_uid, internal.pw_gid
        users = f"default_internal_user = {internal.pw_name}\ndefault_login_user = {login}\n"
        chroot = ""
    else:
        mail_root, uid, gid = root / "mail", os.getuid(), os.getgid()
        mail_root.mkdir()
        me = getpass.getuser()
        users = f"default_internal_user = {me}\ndefault_login_user = {me}\n"
        # Rootless Dovecot cannot chroot its login processes.
        chroot = "  chroot =\n"
    config = root / "dovecot.conf"
    config.write_text(
        f"""protocols = imap
listen = 127.0.0.1
base_dir = {run_dir}
state_dir = {root / "state"}
instance_name = fieldwork-test-{port}
log_path = {root / "dovecot.log"}
{users}first_valid_uid = {min(uid, 100)}
ssl = required
ssl_cert = <{cert}
ssl_key = <{key}
auth_mechanisms = plain
mail_location = maildir:{mail_root}/%u
passdb {{
  driver = static
  args = password={PASSWORD}
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={mail_root}/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
{chroot}}}
service anvil {{
{chroot}}}
"""
    )
    process = subprocess.Popen(  # noqa: S603 - a fixed binary with our own config file
        [shutil.which("dovecot") or "dovecot", "-F", "-c", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    output = process.stdout.read().decode() if process.stdout else ""
                    log = (
                        (root / "dovecot.log").read_text()
                        if (root / "dovecot.log").exists()
                        else ""
                    )
                    pytest.fail(f"dovecot did not start:\n{output}\n{log}")
                time.sleep(0.1)
        yield Mailbox(port, cert)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout:
            process.stdout.close()
        if separate_mail_root is not None:
            shutil.rmtree(separate_mail_root, ignore_errors=True)


@pytest.fixture
def category(create_category):
    import server.jobs.tasks  # noqa: F401  (registers the tasks)

    return create_category(code="INTAKE", name_en="E-mail request", name_zh="邮件报修")


@pytest.fixture
def sent_acks(monkeypatch):
    sent = []

    def fake_send_email(email, **_kwargs):
        sent.append(email)
        return email.message_id

    monkeypatch.setattr("server.jobs.mail.send_email", fake_send_email)
    return sent


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 200)).save(buffer, "JPEG")
    return buffer.getvalue()


def request_email() -> EmailMessage:
    message = EmailMessage()
    message["From"] = "王先生 <wang.customer@example.cn>"
    message["To"] = "service@fieldwork.example"
    message["Subject"] = "空调漏水 Air conditioner leaking"
    message["Message-ID"] = make_msgid(domain="example.cn")
    message.set_content("客厅空调一直在滴水，地址：上海市徐汇区漕溪北路88号。")
    message.add_attachment(jpeg(), maintype="image", subtype="jpeg", filename="漏水.jpg")
    return message


def orders() -> int:
    return db.session.scalar(select(func.count()).select_from(WorkOrder))


def poll(mailbox):
    from server.jobs.imap_intake import poll_mailbox

    return poll_mailbox(mailbox.url, ssl_context=mailbox.context)


def test_a_mail_becomes_exactly_one_work_order_and_a_reply_lands_as_a_comment(
    db_session, mailbox, category, sent_acks
):
    original = request_email()
    mailbox.deliver(original)

    first = poll(mailbox)
    second = poll(mailbox)
    mailbox.mark_all_unread()  # as if we crashed after committing, before flagging it read
    third = poll(mailbox)

    assert first["new_order"] == 1
    assert second == {"new_order": 0, "reply": 0, "duplicate": 0, "failed": 0}
    assert third["duplicate"] == 1
    assert orders() == 1
    order = db.session.scalar(select(WorkOrder))
    assert order.channel is Channel.EMAIL
    assert order.category_id == category.id
    assert order.title == "空调漏水 Air conditioner leaking"
    assert "漕溪北路88号" in order.description
    assert order.customer.preferred_locale == "zh_CN"
    contact = db.session.scalar(select(Contact).where(Contact.customer_id == order.customer_id))
    assert contact.email == "wang.customer@example.cn"
    [photo] = db.session.scalars(select(Attachment).where(Attachment.work_order_id == order.id))
    assert photo.kind == "photo"
    assert photo.filename

    # The acknowledgement carries the number in its subject and threads under the request.
    relay.run_once("w1")
    [ack] = sent_acks
    assert order.number in ack.subject
    assert ack.to == ["wang.customer@example.cn"]
    assert ack.headers["In-Reply-To"] == original["Message-ID"]
    assert "/r/" in ack.text
    relay.run_once("w1")
    assert len(sent_acks) == 1

    reply = EmailMessage()
    reply["From"] = "wang.customer@example.cn"
    reply["To"] = "service@fieldwork.example"
    reply["Subject"] = f"Re: {ack.subject}"
    reply["Message-ID"] = make_msgid(domain="example.cn")
    reply["In-Reply-To"] = ack.message_id
    reply["References"] = f"{original['Message-ID']} {ack.message_id}"
    reply.set_content("下午三点以后家里有人。\n\n> 我们已收到您的请求\n> 工单号 " + order.number)
    mailbox.deliver(reply)

    assert poll(mailbox)["reply"] == 1
    assert poll(mailbox)["reply"] == 0
    assert orders() == 1
    [comment] = db.session.scalars(select(Comment).where(Comment.work_order_id == order.id))
    assert "下午三点以后家里有人。" in comment.body
    assert "我们已收到您的请求" not in comment.body  # the quoted part is dropped
    kinds = db.session.scalars(select(IntakeMessage.kind).order_by(IntakeMessage.id)).all()
    assert kinds == ["new_order", "reply"]


def test_the_number_in_the_subject_threads_only_the_customers_own_mail(
    db_session, mailbox, category, sent_acks
):
    mailbox.deliver(request_email())
    poll(mailbox)
    order = db.session.scalar(select(WorkOrder))

    own = EmailMessage()
    own["From"] = "Wang <WANG.customer@example.cn>"
    own["Subject"] = f"About {order.number}"
    own["Message-ID"] = make_msgid(domain="example.cn")
    own.set_content("The leak got worse.")
    stranger = EmailMessage()
    stranger["From"] = "someone@elsewhere.example"
    stranger["Subject"] = f"About {order.number}"
    stranger["Message-ID"] = make_msgid(domain="elsewhere.example")
    stranger.set_content("I want to see this order.")
    mailbox.deliver(own)
    mailbox.deliver(stranger)

    counts = poll(mailbox)

    assert counts["reply"] == 1
    assert counts["new_order"] == 1
    comments = db.session.scalars(select(Comment.body).where(Comment.work_order_id == order.id))
    assert [body.split("] ", 1)[1] for body in comments] == ["The leak got worse."]
    assert orders() == 2


def test_a_server_without_tls_is_refused(db_session, category):
    from server.jobs.imap_intake import MailboxError, connect, parse_mailbox_url

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]

        def fake_server():
            connection, _ = listener.accept()
            with connection:
                connection.sendall(b"* OK IMAP4rev1 ready, no TLS here\r\n")
                tag = connection.recv(1024).split(b" ")[0]  # imaplib asks for CAPABILITY
                connection.sendall(b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n" + tag + b" OK done\r\n")
                connection.recv(1024)

        thread = threading.Thread(target=fake_server, daemon=True)
        thread.start()
        with pytest.raises(MailboxError, match="STARTTLS"):
            connect(parse_mailbox_url(f"imap://u:p@127.0.0.1:{port}/INBOX"))
        thread.join(timeout=5)


def test_an_imap_outbox_row_is_written_per_new_order_only(db_session, mailbox, category):
    mailbox.deliver(request_email())
    poll(mailbox)
    poll(mailbox)

    acks = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.action == "intake_ack")
    ).all()
    assert len(acks) == 1


def test_the_scheduler_job_polls_the_configured_mailbox(
    app, db_session, mailbox, category, monkeypatch
):
    import dataclasses

    from server.jobs import scheduler

    settings = app.config["FIELDWORK_SETTINGS"]
    monkeypatch.setitem(
        app.config, "FIELDWORK_SETTINGS", dataclasses.replace(settings, imap_url=mailbox.url)
    )
    # The job verifies certificates against the system store; trust the test server's too.
    monkeypatch.setattr("ssl.create_default_context", lambda *args, **kwargs: mailbox.context)
    [job] = [job for job in scheduler.JOBS if job.id == "intake.imap"]
    mailbox.deliver(request_email())

    assert scheduler.run_due([job], "host-a:1") == ["intake.imap"]

    assert orders() == 1
    assert db.session.scalar(select(WorkOrder)).channel is Channel.EMAIL
