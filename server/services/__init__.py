"""Use cases: functions that change models, append history and outbox rows, and flush.

They never commit and never read the request; the edge that calls them commits once.
"""
