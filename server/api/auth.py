"""Token endpoints of ``/api/v1``: sign in, refresh, sign out (office roles)."""

from __future__ import annotations

from server.api import bp
from server.auth.token_endpoints import register_token_endpoints
from server.models import Role, TokenAudience

register_token_endpoints(
    bp, TokenAudience.API, roles={Role.ADMIN, Role.MANAGER, Role.DISPATCHER}, realm="api"
)
