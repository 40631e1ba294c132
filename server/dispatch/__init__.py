"""Automatic dispatch: eligibility, recommendation and the day-plan optimizer (no Flask here)."""
