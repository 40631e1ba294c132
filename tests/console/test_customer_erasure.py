"""An admin erases a customer from their file after typing the name; nobody else can."""

from __future__ import annotations

from server.extensions import db
from server.models import Customer, Role, WorkOrder
from tests.console.conftest import csrf_token
from tests.factories import PASSWORD


def sign_in(client, user):
    response = client.post(
        "/login",
        data={"username": user.username, "password": PASSWORD, "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 302


def test_an_admin_erases_a_customer_after_typing_their_name(client, create_user, create_work_order):
    sign_in(client, create_user(Role.ADMIN))
    order = create_work_order()
    customer_id, order_id, name = order.customer_id, order.id, order.customer.name
    page = client.get(f"/customers/{customer_id}").get_data(as_text=True)
    assert "Erase this customer" in page
    token = csrf_token(client, f"/customers/{customer_id}")

    wrong = client.post(
        f"/customers/{customer_id}/erase",
        data={"csrf_token": token, "confirm_name": name + "x"},
        follow_redirects=True,
    )
    assert "Nothing was erased" in wrong.get_data(as_text=True)
    assert db.session.get(Customer, customer_id) is not None

    done = client.post(
        f"/customers/{customer_id}/erase",
        data={"csrf_token": token, "confirm_name": f"  {name} "},
        follow_redirects=True,
    )
    assert f"{name} and everything about them were erased" in done.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Customer, customer_id) is None
    assert db.session.get(WorkOrder, order_id) is None


def test_dispatchers_see_no_erase_form_and_may_not_post_it(client, create_user, create_work_order):
    sign_in(client, create_user(Role.DISPATCHER))
    order = create_work_order()
    page = client.get(f"/customers/{order.customer_id}").get_data(as_text=True)
    assert "Erase this customer" not in page
    token = csrf_token(client, f"/customers/{order.customer_id}")

    refused = client.post(
        f"/customers/{order.customer_id}/erase",
        data={"csrf_token": token, "confirm_name": order.customer.name},
    )

    assert refused.status_code == 403
    assert db.session.get(Customer, order.customer_id) is not None
