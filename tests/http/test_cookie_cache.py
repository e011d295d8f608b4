"""The per-user Cookie header cache never sends what the jar would not (changes, expiry)."""

import time

from horde.http.cookies import CookieJar

URL = "http://127.0.0.1:8000/pages/?page=2"


def set_cookie(jar: CookieJar, url: str, *values: str) -> None:
    jar.extract(url, [(b"Set-Cookie", v.encode()) for v in values])


def test_new_and_changed_cookies_are_sent_at_once():
    jar = CookieJar()
    assert jar.header_for(URL) is None
    set_cookie(jar, URL, "sessionid=a; Path=/")
    assert jar.header_for(URL) == "sessionid=a"
    assert jar.header_for("http://127.0.0.1:8000/pages/?page=3") == "sessionid=a"  # cached
    set_cookie(jar, URL, "csrftoken=t; Path=/", "sessionid=b; Path=/")
    assert sorted(jar.header_for(URL).split("; ")) == ["csrftoken=t", "sessionid=b"]
    jar.set("extra", "1", domain="127.0.0.1")
    assert "extra=1" in jar.header_for(URL)
    jar.clear()
    assert jar.header_for(URL) is None


def test_paths_and_schemes_are_told_apart():
    jar = CookieJar()
    set_cookie(jar, URL, "admin=1; Path=/admin", "secure=1; Path=/; Secure")
    assert jar.header_for("http://127.0.0.1:8000/admin/x") == "admin=1"
    assert jar.header_for("http://127.0.0.1:8000/pages/") is None
    assert jar.header_for("https://127.0.0.1:8000/pages/") == "secure=1"


def test_an_expired_cookie_is_no_longer_sent_from_the_cache():
    jar = CookieJar()
    set_cookie(jar, URL, "short=1; Max-Age=1; Path=/", "long=1; Max-Age=3600; Path=/")
    assert sorted(jar.header_for(URL).split("; ")) == ["long=1", "short=1"]
    time.sleep(2.1)  # Max-Age has whole-second resolution in the standard library's jar
    assert jar.header_for(URL) == "long=1"


def test_a_cookie_set_again_unchanged_keeps_the_cache_and_a_changed_one_drops_it():
    jar = CookieJar()
    set_cookie(jar, URL, "csrftoken=t; Path=/")
    assert jar.header_for(URL) == "csrftoken=t"
    cached = jar._headers
    set_cookie(jar, URL, "csrftoken=t; Path=/")  # Django does this on every form page
    assert jar._headers is cached
    set_cookie(jar, URL, "csrftoken=u; Path=/")
    assert jar._headers is None
    assert jar.header_for(URL) == "csrftoken=u"
