"""A pytest-style locustfile of our own: both of Locust's fixtures, raise_for_status()."""


def test_pages(session):
    session.get("/")
    missing = session.get("/does_not_exist")
    missing.raise_for_status()  # raises: this call of the test ends here, the next one starts
    session.get("/never")


def test_fast(fastsession):
    fastsession.get(f"{fastsession.base_url}/hello")
