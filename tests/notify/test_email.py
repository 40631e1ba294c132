"""E-mail rendering, MIME building and delivery, against a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import os
import socket
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from ipaddress import ip_address
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from server.notify.email import (
    TEMPLATES_DIR,
    Attachment,
    EmailError,
    OutgoingEmail,
    build_message,
    create_email_environment,
    render_email,
    send_email,
)

MAIL_FROM = "Fieldwork 调度中心 <noreply@fieldwork.example>"
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
USERNAME = "dispatch@fieldwork"
PASSWORD = "p@ss:w/rd%"  # every character that must be percent-encoded in a URL

CONTEXTS: dict[str, dict[str, Any]] = {
    "completion_sheet": {
        "customer_name": "李女士",
        "order_number": "WO-2025-000042",
        "title": "空调不制冷",
        "completed_at": "2025-03-04 14:30",
        "technician_name": "王建国",
        "summary": "更换压缩机启动电容。\n补充 R32 制冷剂 0.4 kg。",
        "work_items": ["启动电容 35 µF × 1", "出风温度 9 °C"],
        "attachment_name": "WO-2025-000042.pdf",
        "job_url": "https://fieldwork.example/r/tok",
        "rating_url": "https://fieldwork.example/r/tok/rating",
        "company_name": "申城暖通服务",
    },
    "followup_survey": {
        "customer_name": "Ms Li",
        "order_number": "WO-2025-000042",
        "title": "Air conditioner not cooling",
        "completed_on": "4 March 2025",
        "survey_url": "https://fieldwork.example/r/tok/survey",
        "company_name": "Shencheng HVAC",
    },
    "work_order_assigned": {
        "technician_name": "Wang Jianguo",
        "order_number": "WO-2025-000042",
        "title": "Air conditioner not cooling",
        "priority": "emergency",
        "customer_name": "Shencheng Bakery",
        "site_address": "88 Huaihai Road\nShanghai",
        "scheduled_for": "Tue 4 Mar, 14:00–16:00",
        "notes": "Ring the side door.",
        "order_url": "https://fieldwork.example/m/orders/42",
    },
    "deadline_warning": {
        "recipient_name": "Zhao Min",
        "order_number": "WO-2025-000042",
        "title": "Air conditioner not cooling",
        "customer_name": "Shencheng Bakery",
        "clock": "arrive",
        "deadline_at": "15:30",
        "minutes_left": 25,
        "state": "Assigned",
        "assignee_name": None,
        "order_url": "https://fieldwork.example/orders/42",
    },
}


# --- a real SMTP peer ---------------------------------------------------------------------


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    tls: bool
    login: str | None

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.data, policy=default)
        assert isinstance(parsed, EmailMessage)
        return parsed


class RecordingHandler:
    """Accept mail and keep it, or answer RCPT/DATA with a canned reply."""

    def __init__(
        self,
        *,
        rcpt_reply: str | None = None,
        data_reply: str | None = None,
        require_auth: bool = False,
    ) -> None:
        self.rcpt_reply = rcpt_reply
        self.data_reply = data_reply
        self.require_auth = require_auth
        self.received: list[Received] = []

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.require_auth and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_reply:
            return self.data_reply
        self.received.append(
            Received(
                mail_from=envelope.mail_from,
                rcpt_tos=list(envelope.rcpt_tos),
                data=envelope.original_content,
                tls=session.ssl is not None,
                login=session.auth_data,
            )
        )
        return "250 2.0.0 Message accepted for delivery"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data == (
        USERNAME.encode(),
        PASSWORD.encode(),
    )
    # handled=False: a failure is answered with aiosmtpd's own 535.
    return AuthResult(success=ok, handled=False, auth_data=auth_data.login.decode() if ok else None)


class EphemeralPortController(Controller):
    """A Controller on a port the OS picks (aiosmtpd 1.4 cannot be given port 0 itself)."""

    def _trigger_server(self):
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


@pytest.fixture
def start_smtp() -> Iterator[Callable[..., EphemeralPortController]]:
    controllers: list[EphemeralPortController] = []

    def start(handler: RecordingHandler, **kwargs: Any) -> EphemeralPortController:
        controller = EphemeralPortController(
            handler, hostname="127.0.0.1", port=0, server_hostname="mx.test", **kwargs
        )
        controller.start()
        controllers.append(controller)
        return controller

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture
def smtp(start_smtp) -> tuple[RecordingHandler, str]:
    handler = RecordingHandler()
    controller = start_smtp(handler)
    return handler, f"smtp://127.0.0.1:{controller.port}"


# --- a throw-away CA and server certificate -----------------------------------------------


@dataclass(frozen=True)
class Certificates:
    ca: Path
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.ca)


def _certificates_with_cryptography(directory: Path) -> Certificates:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Fieldwork test CA")])
    usage = dict.fromkeys(
        (
            "digital_signature content_commitment key_encipherment data_encipherment"
            " key_agreement key_cert_sign crl_sign encipher_only decipher_only"
        ).split(),
        False,
    )
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(**{**usage, "key_cert_sign": True, "crl_sign": True}), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = Certificates(directory / "ca.pem", directory / "server.pem", directory / "server.key")
    paths.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


@pytest.fixture(scope="session")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    # cryptography comes with firebase-admin (through PyJWT[crypto]).
    return _certificates_with_cryptography(tmp_path_factory.mktemp("tls"))


# --- helpers ------------------------------------------------------------------------------


def make_email(**overrides: Any) -> OutgoingEmail:
    values: dict[str, Any] = {
        "to": ["李小红 <li.xiaohong@example.com>"],
        "subject": "您的工单 WO-2025-000042 服务报告",
        "text": "李女士，您好：\n\n您的服务报告已附上。\n",
        "html": "<p>李女士，您好：</p><p>您的服务报告已附上。</p>",
        "attachments": (Attachment("服务报告 WO-2025-000042.pdf", "application/pdf", PDF),),
    }
    return OutgoingEmail(**{**values, **overrides})


def send(email: OutgoingEmail, smtp_url: str | None, tmp_path: Path, **kwargs: Any) -> str:
    return send_email(
        email, smtp_url=smtp_url, mail_from=MAIL_FROM, outbox_dir=tmp_path / "outbox", **kwargs
    )


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- delivery -----------------------------------------------------------------------------


def test_delivers_text_html_and_pdf_with_chinese_headers(smtp, tmp_path):
    handler, url = smtp

    message_id = send(make_email(), url, tmp_path)

    [received] = handler.received
    assert received.mail_from == "noreply@fieldwork.example"
    assert received.rcpt_tos == ["li.xiaohong@example.com"]
    # 7-bit clean on the wire: encoded words in headers, base64 or QP in bodies.
    assert received.data.isascii()
    assert b"=?utf-8?" in received.data
    message = received.message
    assert message["Subject"] == "您的工单 WO-2025-000042 服务报告"
    assert message["To"].addresses[0].display_name == "李小红"
    assert message["From"].addresses[0].display_name == "Fieldwork 调度中心"
    assert message["Message-ID"] == message_id
    assert message_id.endswith("@fieldwork.example>")
    assert message["Date"].datetime.tzinfo is not None
    assert message.get_content_type() == "multipart/mixed"
    [alternative, pdf] = message.iter_parts()
    assert alternative.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in alternative.iter_parts()] == [
        "text/plain",
        "text/html",
    ]
    assert message.get_body(("plain",)).get_content() == "李女士，您好：\n\n您的服务报告已附上。\n"
    assert "<p>李女士，您好：</p>" in message.get_body(("html",)).get_content()
    assert pdf.get_content_type() == "application/pdf"
    assert pdf.get_filename() == "服务报告 WO-2025-000042.pdf"
    assert pdf.get_content() == PDF


def test_text_only_email_is_a_single_part(smtp, tmp_path):
    handler, url = smtp

    send(make_email(html=None, attachments=()), url, tmp_path)

    message = handler.received[0].message
    assert not message.is_multipart()
    assert message.get_content_type() == "text/plain"


def test_given_message_id_and_extra_headers_are_kept(smtp, tmp_path):
    handler, url = smtp
    email = make_email(
        message_id="<outbox-1234@fieldwork.example>",
        headers={"Reply-To": "dispatch@fieldwork.example", "Auto-Submitted": "auto-generated"},
    )

    assert send(email, url, tmp_path) == "<outbox-1234@fieldwork.example>"

    message = handler.received[0].message
    assert message["Message-ID"] == "<outbox-1234@fieldwork.example>"
    assert message["Reply-To"] == "dispatch@fieldwork.example"
    assert message["Auto-Submitted"] == "auto-generated"


def test_headers_cannot_override_the_ones_we_set():
    with pytest.raises(ValueError, match="subject"):
        make_email(headers={"Subject": "spoofed"})


def test_recipients_must_be_a_list_not_a_string():
    with pytest.raises(TypeError):
        make_email(to="li.xiaohong@example.com")


def test_logs_in_with_percent_decoded_credentials(start_smtp, tmp_path):
    handler = RecordingHandler(require_auth=True)
    controller = start_smtp(handler, authenticator=authenticator, auth_require_tls=False)
    url = (
        f"smtp://{quote(USERNAME, safe='')}:{quote(PASSWORD, safe='')}@127.0.0.1:{controller.port}"
    )

    send(make_email(), url, tmp_path)

    [received] = handler.received
    assert received.login == USERNAME
    assert received.tls is False


def test_server_requiring_login_refuses_anonymous_mail_for_good(start_smtp, tmp_path):
    handler = RecordingHandler(require_auth=True)
    controller = start_smtp(handler, authenticator=authenticator, auth_require_tls=False)

    with pytest.raises(EmailError) as caught:
        send(make_email(), f"smtp://127.0.0.1:{controller.port}", tmp_path)

    assert caught.value.retryable is False
    assert handler.received == []


def test_wrong_password_is_not_retryable(start_smtp, tmp_path):
    controller = start_smtp(
        RecordingHandler(require_auth=True), authenticator=authenticator, auth_require_tls=False
    )

    with pytest.raises(EmailError) as caught:
        send(make_email(), f"smtp://{USERNAME}:wrong@127.0.0.1:{controller.port}", tmp_path)

    assert caught.value.retryable is False
    assert "535" in str(caught.value)


def test_upgrades_with_starttls_before_logging_in(start_smtp, certificates, tmp_path):
    handler = RecordingHandler(require_auth=True)
    controller = start_smtp(
        handler,
        tls_context=certificates.server_context(),
        require_starttls=True,
        authenticator=authenticator,
        auth_required=True,
    )
    url = (
        f"smtp://{quote(USERNAME, safe='')}:{quote(PASSWORD, safe='')}@127.0.0.1:{controller.port}"
    )

    send(make_email(), url, tmp_path, ssl_context=certificates.client_context())

    [received] = handler.received
    assert received.tls is True
    assert received.login == USERNAME
    assert received.message["Subject"] == "您的工单 WO-2025-000042 服务报告"


def test_starttls_verifies_the_server_certificate(start_smtp, certificates, tmp_path):
    handler = RecordingHandler()
    controller = start_smtp(handler, tls_context=certificates.server_context())

    # The default context trusts the system's CAs, not our test CA.
    with pytest.raises(EmailError) as caught:
        send(make_email(), f"smtp://127.0.0.1:{controller.port}", tmp_path)

    assert isinstance(caught.value.__cause__, ssl.SSLCertVerificationError)
    assert handler.received == []


def test_smtps_uses_implicit_tls(start_smtp, certificates, tmp_path):
    handler = RecordingHandler()
    controller = start_smtp(handler, ssl_context=certificates.server_context())

    send(
        make_email(),
        f"smtps://127.0.0.1:{controller.port}",
        tmp_path,
        ssl_context=certificates.client_context(),
    )

    [received] = handler.received
    assert received.message["Subject"] == "您的工单 WO-2025-000042 服务报告"


# --- failures -----------------------------------------------------------------------------


def test_server_down_is_retryable(tmp_path):
    with pytest.raises(EmailError) as caught:
        send(make_email(), f"smtp://127.0.0.1:{closed_port()}", tmp_path, timeout=5)

    assert caught.value.retryable is True
    assert isinstance(caught.value.__cause__, ConnectionRefusedError)


def test_silent_server_times_out_and_is_retryable(tmp_path):
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # the kernel completes the handshake; nobody ever says 220
        port = silent.getsockname()[1]

        with pytest.raises(EmailError) as caught:
            send(make_email(), f"smtp://127.0.0.1:{port}", tmp_path, timeout=0.2)

    assert caught.value.retryable is True
    assert "timed out" in str(caught.value)


@pytest.mark.parametrize(
    ("reply_to", "reply", "retryable"),
    [
        ("rcpt", "550 5.1.1 No such user here", False),
        ("rcpt", "451 4.3.0 Mailbox temporarily unavailable", True),
        ("data", "554 5.7.1 Message rejected as spam", False),
        ("data", "451 4.3.0 Temporary local problem, try later", True),
    ],
)
def test_smtp_replies_map_to_retryable_or_permanent(
    start_smtp, tmp_path, reply_to, reply, retryable
):
    handler = RecordingHandler(**{f"{reply_to}_reply": reply})
    controller = start_smtp(handler)

    with pytest.raises(EmailError) as caught:
        send(make_email(), f"smtp://127.0.0.1:{controller.port}", tmp_path)

    assert caught.value.retryable is retryable
    assert reply.split()[0] in str(caught.value)
    if reply_to == "rcpt":
        assert caught.value.refused["li.xiaohong@example.com"][0] == int(reply.split()[0])


def test_partly_refused_recipients_are_not_retried(tmp_path, start_smtp):
    class PickyHandler(RecordingHandler):
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            if address.startswith("gone@"):
                return "550 5.1.1 No such user here"
            return await super().handle_RCPT(server, session, envelope, address, rcpt_options)

    handler = PickyHandler()
    controller = start_smtp(handler)
    email = make_email(to=["li.xiaohong@example.com", "gone@example.com"])

    with pytest.raises(EmailError) as caught:
        send(email, f"smtp://127.0.0.1:{controller.port}", tmp_path)

    # The other recipient has it: sending again would give them a second copy.
    assert caught.value.retryable is False
    assert set(caught.value.refused) == {"gone@example.com"}
    assert handler.received[0].rcpt_tos == ["li.xiaohong@example.com"]


def test_rejects_other_url_schemes(tmp_path):
    with pytest.raises(ValueError, match="SMTP URL"):
        send(make_email(), "http://127.0.0.1:25", tmp_path)


# --- outbox folder ------------------------------------------------------------------------


def test_without_smtp_url_writes_a_parseable_eml_file(tmp_path):
    message_id = send(make_email(), None, tmp_path)

    files = list((tmp_path / "outbox").iterdir())
    assert len(files) == 1
    [eml] = files
    assert eml.suffix == ".eml"
    assert eml.name[:8].isdigit()
    assert message_id.strip("<>").split("@")[0] in eml.name
    message = message_from_bytes(eml.read_bytes(), policy=default)
    assert message["Message-ID"] == message_id
    assert message["Subject"] == "您的工单 WO-2025-000042 服务报告"
    assert next(message.iter_attachments()).get_content() == PDF


def test_a_failed_outbox_write_leaves_nothing_behind(tmp_path, monkeypatch):
    def broken_replace(source: Any, target: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)

    with pytest.raises(OSError, match="disk full"):
        send(make_email(), None, tmp_path)

    assert list((tmp_path / "outbox").iterdir()) == []


def test_build_message_strips_mime_version_from_parts():
    message = build_message(make_email(), MAIL_FROM)

    assert message["MIME-Version"] == "1.0"
    assert [part for part in message.walk() if part is not message and part["MIME-Version"]] == []


# --- templates ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def env() -> jinja2.Environment:
    return create_email_environment()


@pytest.mark.parametrize("template", sorted(CONTEXTS))
@pytest.mark.parametrize("locale", ["en", "zh_CN"])
def test_every_template_renders_with_its_documented_context(env, template, locale):
    subject, text, html = render_email(env, template, CONTEXTS[template], locale)

    assert subject
    assert "\n" not in subject
    assert "WO-2025-000042" in subject
    assert "WO-2025-000042" in text
    assert "\n\n\n" not in text
    assert text.endswith("\n")
    assert html.startswith("<!DOCTYPE html>")
    assert f'<html lang="{locale.replace("_", "-")}">' in html
    assert f"<title>{subject}</title>" in html


def test_completion_sheet_in_chinese(env):
    subject, text, html = render_email(
        env, "completion_sheet", CONTEXTS["completion_sheet"], "zh_CN"
    )

    assert subject == "您的工单 WO-2025-000042 服务报告"
    assert "李女士，您好：" in text
    assert "王建国 于 2025-03-04 14:30 完成" in text
    assert "- 启动电容 35 µF × 1\n- 出风温度 9 °C\n" in text
    assert "https://fieldwork.example/r/tok/rating" in text
    assert "工作摘要" in html
    assert 'href="https://fieldwork.example/r/tok"' in html


def test_completion_sheet_in_english(env):
    subject, text, _ = render_email(env, "completion_sheet", CONTEXTS["completion_sheet"], "en")

    assert subject == "Your service report for WO-2025-000042"
    assert text.startswith("Dear 李女士,\n")
    assert "Summary of the work" in text


def test_optional_context_keys_may_be_left_out(env):
    context = {**CONTEXTS["work_order_assigned"], "priority": "normal"}
    del context["scheduled_for"], context["notes"]

    subject, text, _ = render_email(env, "work_order_assigned", context, "en")

    assert subject == "New job WO-2025-000042: Air conditioner not cooling"
    assert "When:" not in text
    assert "Instructions" not in text
    assert "Site:      88 Huaihai Road\nShanghai\n\nOpen the job" in text


def test_deadline_warning_names_the_clock_in_each_language(env):
    context = CONTEXTS["deadline_warning"]

    english, text, _ = render_email(env, "deadline_warning", context, "en")
    chinese, _, _ = render_email(env, "deadline_warning", context, "zh_CN")

    assert english == "WO-2025-000042 will breach its arrival deadline at 15:30"
    assert "in 25 minutes" in text
    assert "nobody yet" in text
    assert chinese == "工单 WO-2025-000042 将于 15:30 超出到场时限"


def test_html_escapes_the_context_but_text_keeps_it(env):
    context = {**CONTEXTS["followup_survey"], "customer_name": "<script>alert(1)</script>"}

    _, text, html = render_email(env, "followup_survey", context, "zh_CN")

    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)</script>，您好" in text


def test_missing_locale_falls_back_to_english(env):
    subject, text, html = render_email(env, "followup_survey", CONTEXTS["followup_survey"], "fr")

    assert subject == "How did we do? Your visit for WO-2025-000042"
    assert text.startswith("Dear Ms Li,")
    assert '<html lang="en">' in html


def test_hyphenated_locale_finds_the_underscored_template(env):
    subject, _, _ = render_email(env, "followup_survey", CONTEXTS["followup_survey"], "zh-CN")

    assert subject.startswith("服务回访")


def test_unknown_template_is_an_error(env):
    with pytest.raises(jinja2.TemplateNotFound):
        render_email(env, "no_such_email", {}, "en")


def test_refuses_an_environment_without_html_autoescaping():
    # The very mistake render_email guards against.
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=False,  # noqa: S701
    )

    with pytest.raises(ValueError, match="autoescaping"):
        render_email(env, "followup_survey", CONTEXTS["followup_survey"], "en")


def test_templates_render_alike_in_flasks_environment(env):
    from flask import Flask

    flask_env = Flask(__name__, template_folder=str(TEMPLATES_DIR)).jinja_env
    for template, context in CONTEXTS.items():
        for locale in ("en", "zh_CN"):
            assert render_email(flask_env, template, context, locale) == render_email(
                env, template, context, locale
            )
