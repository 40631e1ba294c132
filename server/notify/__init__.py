"""Outgoing notifications: push, e-mail and webhooks."""
