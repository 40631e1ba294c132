"""Check a completion sheet: intact, covering the whole file, signed by our certificate.

What the PDF alone can tell. Whether its hash matches a stored sheet and whether that sheet
is the latest revision is the caller's business (it has the database).
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass

#: How the document id and revision are written into the PDF's keywords.
KEYWORDS_PATTERN = re.compile(r"fieldwork-document:([A-Za-z0-9_-]{8,64}),\s*revision:(\d{1,6})")


@dataclass(frozen=True)
class SignatureCheck:
    """The verdict on one file."""

    #: Hex SHA-256 of the bytes checked.
    sha256: str
    #: The file parses as a PDF.
    readable: bool = False
    #: It carries at least one signature.
    signed: bool = False
    #: The signed bytes are unchanged (digest and signature check out).
    intact: bool = False
    #: The signature covers every byte of the file (nothing added after signing).
    whole_file: bool = False
    #: The certificate chains to a root we trust.
    trusted: bool = False
    #: The signing certificate is ours (fingerprint match).
    signed_by_us: bool = False
    #: The signature carries an RFC 3161 timestamp.
    timestamped: bool = False
    #: Hex SHA-256 of the signing certificate.
    signer_fingerprint: str | None = None
    #: Document id and revision read from the file's metadata (may be forged: check the hash).
    document_id: str | None = None
    revision: int | None = None
    #: Why the check failed, in English, for logs and the CLI.
    problem: str | None = None

    @property
    def ok(self) -> bool:
        """Return True when the file is exactly what we signed."""
        return (
            self.readable
            and self.signed
            and self.intact
            and self.whole_file
            and self.trusted
            and self.signed_by_us
        )

    @property
    def modified(self) -> bool:
        """Return True when the file was changed after signing (or its signature damaged)."""
        return (self.signed and not (self.intact and self.whole_file)) or not self.readable


def sha256_hex(data: bytes) -> str:
    """Return the hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def verify_pdf(
    data: bytes, trust_roots_der: Sequence[bytes], our_fingerprints: Sequence[str]
) -> SignatureCheck:
    """Check the last signature of ``data`` against our trust roots and certificates."""
    from asn1crypto import x509 as asn1_x509  # type: ignore[import-untyped]
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    digest = sha256_hex(data)
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        signatures = list(reader.embedded_signatures)
    except (PdfError, ValueError, KeyError, TypeError, IndexError, OSError) as error:
        return SignatureCheck(sha256=digest, problem=f"not a readable PDF: {error}")
    document_id, revision = _identity(reader)
    base = {"sha256": digest, "readable": True, "document_id": document_id, "revision": revision}
    if not signatures:
        return SignatureCheck(**base, problem="the file carries no signature")  # type: ignore[arg-type]
    embedded = signatures[-1]
    context = ValidationContext(
        trust_roots=[asn1_x509.Certificate.load(der) for der in trust_roots_der],
        allow_fetching=False,
        revocation_mode="soft-fail",
    )
    try:
        status = validate_pdf_signature(embedded, context)
    except Exception as error:  # noqa: BLE001 - a damaged signature raises anything
        return SignatureCheck(
            **base,  # type: ignore[arg-type]
            signed=True,
            problem=f"the signature is damaged: {type(error).__name__}",
        )
    fingerprint = hashlib.sha256(status.signing_cert.dump()).hexdigest()
    intact = bool(status.intact and status.valid)
    whole = status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    trusted = bool(status.trusted)
    ours = fingerprint in our_fingerprints
    problem = None
    if not intact:
        problem = "the signed content was modified"
    elif not whole:
        problem = "bytes were added or changed after signing"
    elif not trusted:
        problem = "the signing certificate is not trusted"
    elif not ours:
        problem = "signed by a certificate that is not ours"
    return SignatureCheck(
        **base,  # type: ignore[arg-type]
        signed=True,
        intact=intact,
        whole_file=whole,
        trusted=trusted,
        signed_by_us=ours,
        timestamped=status.timestamp_validity is not None,
        signer_fingerprint=fingerprint,
        problem=problem,
    )


def _identity(reader: object) -> tuple[str | None, int | None]:
    try:
        info = reader.trailer_view["/Info"]  # type: ignore[attr-defined]
        keywords = str(info.get("/Keywords", ""))
    except Exception:  # noqa: BLE001 - metadata is optional and may be damaged
        return None, None
    match = KEYWORDS_PATTERN.search(keywords)
    return (match.group(1), int(match.group(2))) if match else (None, None)
