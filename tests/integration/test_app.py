"""The app starts, answers its health check and serves the console's login page."""

from __future__ import annotations


def test_health_check_reports_database_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_login_page_is_served_with_a_csrf_token(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert b'name="csrf_token"' in response.data
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")


def test_dashboard_requires_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_login_page_speaks_chinese_to_a_chinese_browser(client):
    response = client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
    page = response.get_data(as_text=True)
    assert "登录" in page
    assert "用户名" in page
    assert 'lang="zh-CN"' in page


def test_console_sign_in_and_out_ends_the_session_on_the_server(client, create_user):
    from server.models import Role
    from tests.factories import PASSWORD

    user = create_user(Role.DISPATCHER)
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    response = client.post(
        "/login", data={"username": user.username, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    cookie = client.get_cookie("fieldwork_session").value
    assert client.get("/").status_code == 200
    dashboard = client.get("/").get_data(as_text=True)
    logout_token = dashboard.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    assert client.post("/logout", data={"csrf_token": logout_token}).status_code == 302
    # Replaying the old cookie after logout does not get back in.
    client.set_cookie("fieldwork_session", cookie)
    assert client.get("/").status_code == 302


def test_console_login_without_csrf_token_is_refused(client, create_user):
    from server.models import Role
    from tests.factories import PASSWORD

    user = create_user(Role.DISPATCHER)
    response = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_unknown_page_is_an_html_404(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"


def test_unexpected_error_is_a_500_problem_without_internals(app, client, monkeypatch):
    from server.api import work_orders

    def explode(*args, **kwargs):
        raise RuntimeError("secret internals /etc/passwd")

    monkeypatch.setattr(work_orders, "list_work_orders", explode)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    try:
        from server.auth.tokens import issue_token_pair
        from server.extensions import db
        from server.models import Role, TokenAudience, User

        user = User(username="boom", display_name="b", role=Role.ADMIN, password_hash="x")
        db.session.add(user)
        db.session.flush()
        pair = issue_token_pair(user, TokenAudience.API)
        response = client.get(
            "/api/v1/work-orders", headers={"Authorization": f"Bearer {pair.access_token}"}
        )
    finally:
        app.config["PROPAGATE_EXCEPTIONS"] = None
    assert response.status_code == 500
    body = response.get_json()
    assert body["code"] == "internal_error"
    assert body["request_id"]
    assert "secret" not in response.get_data(as_text=True)
    assert response.headers["X-Request-ID"] == body["request_id"]


def test_console_login_with_a_nul_in_the_username_is_just_a_failed_login(client):
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    response = client.post(
        "/login", data={"username": "ad\x00min", "password": "x" * 10, "csrf_token": token}
    )
    assert response.status_code == 200
    assert "Wrong username or password." in response.get_data(as_text=True)
