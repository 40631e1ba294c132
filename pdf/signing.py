"""Sign completion sheets with pyHanko: PAdES baseline, SHA-256, a visible signature field.

The key and certificate come from a PKCS#12 file (``FIELDWORK_SIGNING_P12``). When none is
configured, :func:`ensure_development_identity` creates a development CA and a signing
certificate it issued into the instance folder, once, and reuses them afterwards: fine for
trying Fieldwork out, never for production (nobody else trusts that CA).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import functools
import hashlib
import io
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

#: The signature field pyHanko creates on the last page.
FIELD_NAME = "FieldworkSignature"
#: Where the development identity lives, relative to the instance folder.
DEV_FOLDER = "signing"
DEV_P12 = "development-signing.p12"
DEV_PASSWORD = "development-signing.password"  # noqa: S105 - a file name, not a password
DEV_CA = "development-ca.pem"
#: Default place of the signature appearance when the layout reserved none: bottom right.
DEFAULT_SEAL_BOX = (380, 60, 560, 120)


class SigningError(RuntimeError):
    """The signing key could not be loaded or the document could not be signed."""


@dataclass(frozen=True)
class SigningIdentity:
    """A key with its certificate (and CA chain) that signs sheets."""

    #: pyHanko's signer (``SimpleSigner``).
    signer: Any
    #: DER of the signing certificate.
    certificate_der: bytes
    #: DER of the CA certificates that came with it.
    chain_der: tuple[bytes, ...]

    @property
    def fingerprint(self) -> str:
        """Return the hex SHA-256 of the signing certificate (stored with every sheet)."""
        return hashlib.sha256(self.certificate_der).hexdigest()

    @property
    def trust_roots_der(self) -> tuple[bytes, ...]:
        """Return the certificates a verifier trusts: the CA chain, else the certificate."""
        return self.chain_der or (self.certificate_der,)


def load_identity(p12_path: str | Path, password: str | None) -> SigningIdentity:
    """Load a signing identity from a PKCS#12 file."""
    from asn1crypto import x509 as asn1_x509  # type: ignore[import-untyped]
    from pyhanko.sign import signers

    try:
        data = Path(p12_path).read_bytes()
        secret = password.encode() if password else None
        key, certificate, extra = pkcs12.load_key_and_certificates(data, secret)
    except (OSError, ValueError) as error:
        raise SigningError(f"cannot read the signing key {p12_path}: {error}") from None
    if key is None or certificate is None:
        raise SigningError(f"{p12_path} holds no private key and certificate")
    chain = tuple(c.public_bytes(serialization.Encoding.DER) for c in extra or ())
    signer = signers.SimpleSigner.load_pkcs12_data(
        data, other_certs=[asn1_x509.Certificate.load(der) for der in chain], passphrase=secret
    )
    if signer is None:
        raise SigningError(f"pyHanko could not load {p12_path}")
    return SigningIdentity(
        signer=signer,
        certificate_der=certificate.public_bytes(serialization.Encoding.DER),
        chain_der=chain,
    )


@functools.cache
def _cached_identity(path: str, password: str | None, mtime_ns: int) -> SigningIdentity:
    return load_identity(path, password)


def identity_from(p12_path: str | Path, password: str | None) -> SigningIdentity:
    """Return the identity of ``p12_path``, loaded once per process (until the file changes)."""
    path = Path(p12_path)
    try:
        mtime = path.stat().st_mtime_ns
    except OSError as error:
        raise SigningError(f"cannot read the signing key {path}: {error}") from None
    return _cached_identity(str(path), password, mtime)


def ensure_development_identity(instance_path: str | Path) -> tuple[Path, str]:
    """Create the development CA and signing certificate once; return the p12 and password.

    Several processes may start at once: an exclusive file lock makes exactly one of them
    generate; the others then read what it wrote.
    """
    folder = Path(instance_path) / DEV_FOLDER
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    p12_path, password_path = folder / DEV_P12, folder / DEV_PASSWORD
    with (folder / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (p12_path.exists() and password_path.exists()):
            password = secrets.token_urlsafe(24)
            p12, ca_pem = _development_p12(password)
            _write_private(password_path, password.encode())
            _write_private(folder / DEV_CA, ca_pem)
            _write_private(p12_path, p12)
    return p12_path, password_path.read_text().strip()


def _write_private(path: Path, data: bytes) -> None:
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, path)


def _key_usage(*, certifies: bool) -> x509.KeyUsage:
    """Return a CA's key usage (signs certificates and CRLs) or a document signer's."""
    return x509.KeyUsage(
        digital_signature=not certifies,
        content_commitment=not certifies,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=certifies,
        crl_sign=certifies,
        encipher_only=False,
        decipher_only=False,
    )


def _development_p12(password: str) -> tuple[bytes, bytes]:
    """Return a PKCS#12 (signing key, certificate, CA) and the CA's PEM."""
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Fieldwork development"),
            x509.NameAttribute(NameOID.COMMON_NAME, "Fieldwork development CA"),
        ]
    )
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            _key_usage(certifies=True),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Fieldwork development"),
            x509.NameAttribute(NameOID.COMMON_NAME, "Fieldwork completion sheets (development)"),
        ]
    )
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1825))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            _key_usage(certifies=False),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    p12 = pkcs12.serialize_key_and_certificates(
        b"fieldwork-signing",
        key,
        certificate,
        [ca],
        serialization.BestAvailableEncryption(password.encode()),
    )
    return p12, ca.public_bytes(serialization.Encoding.PEM)


def http_timestamper(url: str) -> Any:
    """Return an RFC 3161 timestamper for the TSA at ``url``."""
    from pyhanko.sign.timestamps import HTTPTimeStamper

    return HTTPTimeStamper(url, timeout=10)


def sign_pdf(
    data: bytes,
    identity: SigningIdentity,
    *,
    seal_box: Sequence[int] | None = None,
    timestamper: Any = None,
    reason: str = "Completion sheet",
    location: str | None = None,
    contact: str | None = None,
) -> bytes:
    """Sign ``data`` (PAdES baseline, SHA-256) with a visible field on the last page.

    The signature certifies the document with "no changes allowed", so any later edit,
    even a valid incremental update, shows up as a modification. With ``timestamper`` the
    signature gets an RFC 3161 timestamp (PAdES B-T).
    """
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign import fields, signers
    from pyhanko.stamp import TextStampStyle

    box = tuple(seal_box) if seal_box else DEFAULT_SEAL_BOX
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
        last_page = int(PdfFileReader(io.BytesIO(data), strict=False).root["/Pages"]["/Count"])
        metadata = signers.PdfSignatureMetadata(
            field_name=FIELD_NAME,
            md_algorithm="sha256",
            subfilter=fields.SigSeedSubFilter.PADES,
            reason=reason,
            location=location,
            contact_info=contact,
            certify=True,
            docmdp_permissions=fields.MDPPerm.NO_CHANGES,
        )
        signer = signers.PdfSigner(
            metadata,
            signer=identity.signer,
            timestamper=timestamper,
            stamp_style=TextStampStyle(
                stamp_text="Digitally signed by\n%(signer)s\n%(ts)s", border_width=1
            ),
            new_field_spec=fields.SigFieldSpec(
                FIELD_NAME, on_page=last_page - 1, box=(box[0], box[1], box[2], box[3])
            ),
        )
        output = signer.sign_pdf(writer)
    except Exception as error:  # noqa: BLE001 - pyHanko raises many kinds; one error for callers
        raise SigningError(f"signing failed: {type(error).__name__}: {error}") from error
    return bytes(output.getvalue())
