"""Security headers on every response."""

from __future__ import annotations

from flask import Flask, Response, request

#: Content Security Policy for console and customer pages; scripts and styles are our own.
CSP = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def register_security_headers(app: Flask) -> None:
    """Add nosniff, CSP, referrer, framing, HSTS and no-store headers."""
    hsts = app.config["FIELDWORK_SETTINGS"].base_url.startswith("https://")

    always = [
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "no-referrer"),
        ("X-Frame-Options", "DENY"),
        ("Content-Security-Policy", CSP),
    ]
    if hsts:
        always.append(("Strict-Transport-Security", "max-age=31536000; includeSubDomains"))
    # Everything but static files is personal or changes often: never cached by the browser.
    dynamic = [*always, ("Cache-Control", "no-store")]

    @app.after_request
    def _security_headers(response: Response) -> Response:
        headers = response.headers
        # A view may have set its own (a download's Cache-Control): those stay.
        present = {name.lower() for name in headers.keys()}  # noqa: SIM118 - Headers
        wanted = always if request.path.startswith("/static/") else dynamic
        headers.extend([(name, value) for name, value in wanted if name.lower() not in present])
        return response
