"""Every response carries the default security headers (server.headers) unless it sets
its own; HTML and CSV say their charset once; the API's documentation needs no internet."""

from litestar import Litestar, Response, get
from litestar.testing import TestClient

from server.headers import DEFAULTS, security_headers
from sync.calendar import local_month
from tests.conftest import T0

MONTH = local_month(T0)


def test_html_and_every_other_response_carry_csp_nosniff_frame_and_cache_headers(client, login):
    h = login("auditor")
    answers = [client.get(f"/api/reports/kiosks?month={MONTH}&format=html", headers=h),
               client.get(f"/api/reports/board?month={MONTH}&format=csv", headers=h),
               client.get("/api/residents", headers=h),
               client.get("/api/reviews", headers={"Authorization": "Bearer nope"}),  # an error
               client.get("/no/such/page"),  # the router's 404
               client.get("/v1/health")]
    for resp in answers:
        for name, value in DEFAULTS.items():
            assert resp.headers.get_list(name) == [value], (resp.url, name)
    html, csv = answers[0], answers[1]
    assert html.headers.get_list("content-type") == ["text/html; charset=utf-8"]
    assert csv.headers.get_list("content-type") == ["text/csv; charset=utf-8"]


def test_a_response_that_sets_its_own_csp_keeps_it():
    """A console page with its own script sources sets the header; the default leaves it."""
    own = "default-src 'self'"

    @get("/page", sync_to_thread=False)
    def page() -> Response:
        return Response("<p>hi</p>", media_type="text/html", headers={"Content-Security-Policy": own})

    with TestClient(Litestar([page], before_send=[security_headers])) as c:
        resp = c.get("/page")
    assert resp.headers.get_list("content-security-policy") == [own]
    assert resp.headers["x-content-type-options"] == "nosniff"


def test_the_api_docs_load_nothing_from_a_cdn(client):
    """/schema served a page whose scripts came from a public CDN; now only the schema is served."""
    assert client.get("/schema/openapi.json").status_code == 200
    for page in ("/schema/swagger", "/schema/redoc", "/schema/elements", "/schema/rapidoc"):
        resp = client.get(page)
        assert resp.status_code == 404 and b"<script" not in resp.content, page
    assert b"<script" not in client.get("/schema").content
