"""RELIABILITY D5: text people type is shown as text on every page, never run as markup."""

from __future__ import annotations

from server.services.customer_portal import issue_customer_link
from server.services.work_orders import apply_transition

HOSTILE = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
ESCAPED_TAG = "&lt;script&gt;alert(1)&lt;/script&gt;"


def test_hostile_names_and_notes_are_escaped_in_the_console_and_on_the_customer_page(
    client, office, create_work_order, create_customer, create_user
):
    from server.models import Role

    user, _token = office
    customer = create_customer(name=f"客户{HOSTILE}")
    order = create_work_order(
        actor=user, customer=customer, title=f"Leak {HOSTILE}", description=f"Note {HOSTILE}"
    )
    tech = create_user(Role.TECHNICIAN, display_name=f"Tech {HOSTILE}")
    apply_transition(order, "assign", user, {"assignee_id": tech.id, "note": HOSTILE}, 1)
    pages = {
        "list": f"/work-orders?q={order.number}",
        "detail": f"/work-orders/{order.id}",
        "live": f"/work-orders/{order.id}/live?version=0",
        "customer file": f"/customers/{customer.id}",
        "board": "/board",
        "technicians": "/technicians",
        "customer page": issue_customer_link(order, None).path,
    }
    for name, path in pages.items():
        html = client.get(path).get_data(as_text=True)
        assert "<script>alert(1)" not in html, name
        assert "<img src=x onerror" not in html, name
        assert ESCAPED_TAG in html, name  # shown, as text
