"""The one rule for a checklist item being answered (``checklist_item_answered``)."""

from __future__ import annotations

import pytest

from server.services.field_reports import checklist_item_answered


@pytest.mark.parametrize(
    ("item", "answered"),
    [
        ({"key": "safety", "ok": True}, True),
        ({"key": "safety", "ok": False}, True),  # a cross is an answer
        ({"key": "safety", "answer": "done"}, True),
        ({"key": "safety", "answer": "done", "ok": True}, True),
        ({"key": "safety", "answer": "", "ok": False}, True),
        ({"key": "readings", "answer": "出风 9 °C", "ok": None}, True),
        ({"key": "safety"}, False),
        ({"key": "safety", "ok": None}, False),
        ({"key": "safety", "answer": None, "ok": None}, False),
        ({"key": "safety", "answer": ""}, False),
        ({"key": "safety", "answer": "   \t"}, False),
        ({"key": "safety", "ok": "true"}, False),  # only a real boolean (stored JSON)
        ({"key": "safety", "ok": 1}, False),
    ],
)
def test_an_item_is_answered_by_a_boolean_ok_or_a_non_blank_answer(item, answered):
    assert checklist_item_answered(item) is answered
