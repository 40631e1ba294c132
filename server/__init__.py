"""Fieldwork: field-service operations, end to end."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask
from werkzeug.routing import IntegerConverter


class DatabaseId(IntegerConverter):
    """``<int:…>`` in URLs: a positive id of at most ten digits (fits a 64-bit integer).

    Anything else does not match the route at all, so it is a plain 404 (a converter that
    rejected values after matching would make Werkzeug answer 405 for other methods).
    """

    regex = r"[1-9][0-9]{0,9}"

    def to_python(self, value: str) -> int:
        """Return the id; ids beyond the 32-bit id columns become 0, which names no row."""
        number = int(value)
        return number if number <= MAX_DATABASE_ID else 0


#: Largest value of the integer id columns.
MAX_DATABASE_ID = 2**31 - 1


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the Flask application; ``config`` overrides settings (tests pass it)."""
    from server.config import load_settings
    from server.extensions import (
        babel,
        configure_postgresql,
        configure_sqlite,
        csrf,
        db,
        limiter,
        login_manager,
        migrate,
        register_write_intent,
    )

    settings = load_settings(overrides=config)
    app = Flask(
        __name__,
        instance_path=str(settings.instance_path.resolve()),
        template_folder="../templates",
        static_folder="static",
    )
    app.config.from_mapping(settings.flask_config())
    from server.json_input import BoundedJSONProvider

    app.json = BoundedJSONProvider(app)  # request bodies parsed once, bounded in depth
    if settings.proxy_hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Only the configured proxies' X-Forwarded-For/-Proto count: the client address that
        # rate limits and logs use cannot be spoofed by a header the client sends itself.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=settings.proxy_hops, x_proto=settings.proxy_hops
        )
    from server.logs import configure_logging

    configure_logging(logging.INFO)  # JSON lines, UTC, control characters neutralised

    from server import models  # noqa: F401  (registers every table on the metadata)

    db.init_app(app)
    from server.models.base import render_migration_type

    migrate.init_app(
        app,
        db,
        directory=str(app.root_path + "/../migrations"),
        render_as_batch=True,  # SQLite alters tables by copying them
        compare_type=True,
        render_item=render_migration_type,
    )
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)

    from server.i18n import select_locale, select_timezone

    babel.init_app(
        app,
        locale_selector=select_locale,
        timezone_selector=select_timezone,
        default_translation_directories="translations",
    )
    from flask_babel import get_locale

    app.jinja_env.globals["get_locale"] = get_locale
    with app.app_context():
        configure_sqlite(db.engine)
        configure_postgresql(db.engine)

    from server.body_limits import install_body_limits
    from server.errors import register_error_handlers
    from server.headers import register_security_headers

    install_body_limits(app)

    register_write_intent(app)
    register_error_handlers(app)
    register_security_headers(app)

    app.url_map.converters["int"] = DatabaseId
    from server.storage import open_store

    app.extensions["fieldwork.blob_store"] = open_store(settings.storage_url)
    from mobile_api import bp as mobile_bp
    from server.api import bp as api_bp
    from server.auth.console_sessions import register_session_loader
    from server.console import bp as console_bp
    from server.health import bp as health_bp

    register_session_loader(login_manager)
    app.register_blueprint(health_bp)
    from server.verify import bp as verify_bp

    app.register_blueprint(verify_bp)
    app.register_blueprint(console_bp)
    from server.customer import bp as customer_bp

    app.register_blueprint(customer_bp)
    from server.technician_app import bp as technician_app_bp

    app.register_blueprint(technician_app_bp)
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    csrf.exempt(api_bp)
    app.register_blueprint(mobile_bp, url_prefix="/api/mobile/v1")
    csrf.exempt(mobile_bp)

    from server.cli import register_cli

    register_cli(app)
    return app
