"""Token endpoints of the mobile API: technicians only."""

from __future__ import annotations

from mobile_api import bp
from server.auth.token_endpoints import register_token_endpoints
from server.models import Role, TokenAudience

register_token_endpoints(bp, TokenAudience.MOBILE, roles={Role.TECHNICIAN}, realm="mobile")
