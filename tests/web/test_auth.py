"""Login, sessions, CSRF and the security headers."""

from __future__ import annotations

from tests import factories


def _unit_user(session):
    dept = factories.department(session)
    unit = factories.unit(session, "广州市无线电监测站", dept)
    return factories.user(session, "jcz", "unit", unit_row=unit)


def test_login_page_is_chinese_and_loads_vendored_htmx(client):
    page = client.get("/login")
    assert page.status_code == 200
    assert '<html lang="zh-CN">' in page.text
    assert 'name="username"' in page.text and 'name="password"' in page.text
    assert "/static/vendor/htmx-2.0.11.min.js" in page.text
    assert "http://" not in page.text.split("<body")[0].replace("http-equiv", "")  # no CDN in the head
    js = client.get("/static/vendor/htmx-2.0.11.min.js")
    assert js.status_code == 200 and "htmx" in js.text


def test_login_sets_a_safe_session_cookie_and_logout_ends_it(client, session):
    _unit_user(session)
    response = factories.login(client, "jcz")
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
    assert "Secure" not in cookie  # plain http in tests; Secure behind https
    home = client.get("/")
    assert home.status_code == 200 and "广州市无线电监测站" in home.text
    client.post("/logout")
    assert client.get("/", follow_redirects=False).status_code == 303


def test_cookie_is_secure_behind_https(app, session):
    from fastapi.testclient import TestClient

    _unit_user(session)
    with TestClient(app, base_url="https://testserver") as secure_client:
        response = factories.login(secure_client, "jcz")
        assert "Secure" in response.headers["set-cookie"]


def test_wrong_password_and_unknown_user_get_the_same_message(client, session):
    _unit_user(session)
    wrong = client.post("/login", data={"username": "jcz", "password": "nope-nope"})
    unknown = client.post("/login", data={"username": "nobody", "password": "nope-nope"})
    assert wrong.status_code == unknown.status_code == 422
    assert "用户名或密码错误" in wrong.text and "用户名或密码错误" in unknown.text
    assert "set-cookie" not in wrong.headers


def test_disabled_user_cannot_log_in(client, session):
    dept = factories.department(session)
    unit = factories.unit(session, "单位甲", dept)
    factories.user(session, "old", "unit", unit_row=unit, active=False)
    assert client.post("/login", data={"username": "old", "password": factories.PASSWORD}).status_code == 422


def test_login_does_not_redirect_off_site(client, session):
    _unit_user(session)
    response = client.post(
        "/login",
        data={"username": "jcz", "password": factories.PASSWORD, "next": "//evil.example/x"},
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"


def test_cross_site_post_is_refused(client, session):
    _unit_user(session)
    cross = client.post(
        "/login",
        data={"username": "jcz", "password": factories.PASSWORD},
        headers={"Sec-Fetch-Site": "cross-site"},
        follow_redirects=False,
    )
    assert cross.status_code == 403
    foreign_origin = client.post(
        "/login",
        data={"username": "jcz", "password": factories.PASSWORD},
        headers={"Origin": "http://evil.example"},
        follow_redirects=False,
    )
    assert foreign_origin.status_code == 403
    same = client.post(
        "/login",
        data={"username": "jcz", "password": factories.PASSWORD},
        headers={"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"},
        follow_redirects=False,
    )
    assert same.status_code == 303
    api_cross = client.post("/api/v1/anything", headers={"Sec-Fetch-Site": "cross-site"})
    assert api_cross.status_code == 403 and api_cross.json()["error"] == "csrf"


def test_security_headers_on_every_response(client):
    for path in ("/login", "/healthz", "/no-such-page", "/static/app.css"):
        headers = client.get(path).headers
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"
        assert headers["x-frame-options"] == "DENY"


def test_templates_have_no_inline_script_or_hx_on():
    from pathlib import Path

    for path in Path("templates").rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert "hx-on" not in text, path
        for chunk in text.split("<script")[1:]:
            assert chunk.lstrip().startswith("src="), f"inline script in {path}"


def test_unknown_page_is_a_chinese_404_and_api_gets_json(client):
    page = client.get("/no/such/page")
    assert page.status_code == 404 and "页面不存在" in page.text and "text/html" in page.headers["content-type"]
    api = client.get("/api/v1/no-such-thing")
    assert api.status_code == 404 and api.json()["error"] == "http_404"


def test_fragment_versus_full_page(client):
    full = client.get("/login")
    assert "<html" in full.text
    assert full.headers["vary"] == "HX-Request"
    # a failed htmx login answers only the form; a plain one the whole page
    failed = client.post("/login", data={"username": "x", "password": "y"}, headers={"HX-Request": "true"})
    assert "<html" not in failed.text and "用户名或密码错误" in failed.text
    plain = client.post("/login", data={"username": "x", "password": "y"})
    assert "<html" in plain.text and "用户名或密码错误" in plain.text
    # a boosted request or a history restore always gets the full page
    boosted = client.post(
        "/login", data={"username": "x", "password": "y"}, headers={"HX-Request": "true", "HX-Boosted": "true"}
    )
    assert "<html" in boosted.text
