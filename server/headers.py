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

    @app.after_request
    def _security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "no-referrer")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Content-Security-Policy", CSP)
        if hsts:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if not request.path.startswith("/static/"):
            # Everything else is personal or changes often: never cached by the browser.
            headers.setdefault("Cache-Control", "no-store")
        return response
