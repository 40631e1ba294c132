"""Authentication (passwords, tokens, console sessions) and the permission rules."""
