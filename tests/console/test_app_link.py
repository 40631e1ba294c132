"""The technicians page and the "use the app" page show the app's address and a QR code."""

from __future__ import annotations

import dataclasses
import re

import pytest
import segno

from server.extensions import db
from server.models import Role
from tests.console.conftest import csrf_token
from tests.factories import PASSWORD


@pytest.fixture
def public_base_url(app, monkeypatch):
    settings = dataclasses.replace(
        app.config["FIELDWORK_SETTINGS"], base_url="https://fieldwork.example.cn"
    )
    monkeypatch.setitem(app.config, "FIELDWORK_SETTINGS", settings)
    return "https://fieldwork.example.cn/app/"


def qr_path(html):
    """Return the modules of the page's QR code (the dark path of segno's SVG)."""
    found = re.search(r'<svg[^>]*class="qr".*?</svg>', html, re.S)
    assert found, "no inline QR code"
    paths = re.findall(r'stroke="#111"[^>]*d="([^"]+)"|d="([^"]+)"[^>]*stroke="#111"', found[0])
    assert paths, "no dark modules"
    return paths


def encodes(html, url):
    """Whether the page's QR code is the one of ``url`` (same modules as segno draws)."""
    expected = segno.make_qr(url, error="m").svg_inline(
        scale=4, border=4, dark="#111", light="#fff", svgclass="qr"
    )
    return qr_path(html) == qr_path(expected)


def sign_in(client, user):
    response = client.post(
        "/login",
        data={"username": user.username, "password": PASSWORD, "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 302


def test_the_technicians_page_shows_the_app_address_and_its_qr_code(
    client, office, public_base_url
):
    html = client.get("/technicians").get_data(as_text=True)
    assert f'<a href="{public_base_url}">{public_base_url}</a>' in html
    assert "The technicians’ app" in html
    assert encodes(html, public_base_url)
    assert "<title>QR code: the technicians’ app</title>" in html


def test_a_technician_on_the_console_gets_the_app_address_and_qr_code(
    client, create_user, public_base_url
):
    sign_in(client, create_user(Role.TECHNICIAN, locale="en"))
    response = client.get("/")
    html = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "Use the Fieldwork app" in html
    assert public_base_url in html
    assert encodes(html, public_base_url)


def test_both_pages_in_chinese(client, create_user, office, public_base_url):
    user, _csrf = office
    user.locale = "zh_CN"
    db.session.commit()
    html = client.get("/technicians").get_data(as_text=True)
    assert "技术员手机应用" in html
    assert "<title>二维码：技术员手机应用</title>" in html
    client.post("/logout", data={"csrf_token": csrf_token(client, "/profile")})

    sign_in(client, create_user(Role.TECHNICIAN, locale="zh_CN"))
    html = client.get("/").get_data(as_text=True)
    assert "请使用 Fieldwork 手机应用" in html
    assert "用 Fieldwork 账号登录" in html
    assert encodes(html, public_base_url)


def test_the_address_follows_the_base_url_setting(app, client, office):
    url = app.config["FIELDWORK_SETTINGS"].base_url + "/app/"
    html = client.get("/technicians").get_data(as_text=True)
    assert f'<a href="{url}">' in html
    assert encodes(html, url)
    assert not encodes(html, url + "x")
