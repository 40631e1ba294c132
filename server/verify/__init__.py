"""The public completion-sheet verification page: ``/verify/<document_id>``."""

from server.verify.views import bp

__all__ = ["bp"]
