"""`GET /v1/transparency` returns the report's figures; `GET /transparency` shows the same ones,
in Chinese or English; both are public and read-only; bad input is a 422 naming the field."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from xinren.api.app import create_app
from xinren.clock import FakeClock
from xinren.documents.store import FileStore
from xinren.events.tables import outbox
from xinren.report import figures
from xinren.report.model import label, show

from . import history, pagecheck
from .test_cross_check import YEAR

YEAR_QUERY = {"from": "2026-01-01", "to": "2026-12-31"}


@pytest.fixture
def clock():
    return FakeClock(history.START)


@pytest.fixture
def client(session, factory, clock, tmp_path):
    history.build(session, clock, FileStore(tmp_path / "documents"))
    session.commit()
    return TestClient(create_app(clock=clock, sessions=factory))


def test_the_json_is_the_report(client, session, clock):
    r = client.get("/v1/transparency", params=YEAR_QUERY)  # no key: the report is public
    assert r.status_code == 200
    want = json.loads(json.dumps(figures.report(session, clock, YEAR).as_dict()))
    assert r.json() == want
    assert r.json()["enforcement"]["merchants_cleared"] == 1


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_page_shows_the_same_figures_in_either_language(client, lang):
    data = client.get("/v1/transparency", params=YEAR_QUERY).json()
    r = client.get("/transparency", params=YEAR_QUERY | {"lang": lang})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = r.text
    shown = pagecheck.check(pagecheck.figures_in(page), data, lang)
    for path in (
        "enforcement.merchants_cleared",
        "gate.listings_intercepted",
        "violations.share_automated",
        "appeals.automated_error_rate",
        "notices.founded_share",
        "complaints.p90_hours_to_decision",
        "compensation.paid.CNY.guarantee_fund.compensation",
        "compensation.recovery.CNY.guarantee_fund.merchant.outstanding",
        "recalls.share_remedied",
        "reviews.rating_changes.1.change",
    ):
        assert path in shown, path
    assert label("sec_enforcement", lang) in page and label("sec_reviews", lang) in page
    assert show(0.5, "rate", lang) in page  # the automated decisions' error rate
    # the switch keeps the period, the form and the JSON link too
    other = "en" if lang == "zh" else "zh"
    assert (
        f'href="/transparency?from=2026-01-01&amp;to=2026-12-31&amp;tz=UTC&amp;lang={other}"'
        in page
    )
    assert 'name="from" value="2026-01-01"' in page and 'name="to" value="2026-12-31"' in page
    assert 'href="/v1/transparency?from=2026-01-01&amp;to=2026-12-31&amp;tz=UTC"' in page


def test_without_a_period_it_is_the_year_so_far(client):
    data = client.get("/v1/transparency").json()  # the clock stands at 1 January 2027
    assert data["period"] == {"from": "2027-01-01", "to": "2027-01-01", "timezone": "UTC"}
    assert data["violations"]["decided"] == 1


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/v1/transparency", {"from": "2026-13-01", "to": "2026-12-31"}, "from"),
        ("/v1/transparency", {"from": "last year", "to": "2026-12-31"}, "from"),
        ("/v1/transparency", {"from": "2026-01-01", "to": "2026-02-30"}, "to"),
        ("/v1/transparency", {"from": "2026-12-31", "to": "2026-01-01"}, "to"),
        ("/transparency", {"from": "2026-12-31", "to": "2026-01-01"}, "to"),
        ("/transparency", YEAR_QUERY | {"lang": "fr"}, "lang"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(client, path, params, field):
    r = client.get(path, params=params)
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["errors"][0]["field"] == field
    assert field in body["detail"] or field in json.dumps(body["errors"])


def test_the_page_is_read_only(client, session):
    before = session.execute(select(func.count()).select_from(outbox)).scalar_one()
    assert client.get("/transparency", params=YEAR_QUERY).status_code == 200
    assert client.post("/transparency").status_code == 405
    assert client.post("/v1/transparency").status_code == 405
    assert session.execute(select(func.count()).select_from(outbox)).scalar_one() == before


def test_the_days_can_be_a_platforms_own_time_zone(client):
    """In Asia/Shanghai, 2026 runs from 2025-12-31 16:00 to 2026-12-31 16:00 UTC: the review
    written at 23:59 UTC on 31 December 2025 is in it, the one at 23:30 UTC a year later is not."""
    utc = client.get("/v1/transparency", params=YEAR_QUERY).json()
    local = client.get("/v1/transparency", params=YEAR_QUERY | {"tz": "Asia/Shanghai"}).json()
    assert local["period"]["timezone"] == "Asia/Shanghai" and utc["period"]["timezone"] == "UTC"
    assert local["reviews"]["received"] == utc["reviews"]["received"]  # one in, one out
    assert local["reviews"]["excluded"] == utc["reviews"]["excluded"] + 1  # the 2025 fake
    page = client.get("/transparency", params=YEAR_QUERY | {"tz": "Asia/Shanghai", "lang": "en"})
    assert "Asia/Shanghai" in page.text and 'name="tz" value="Asia/Shanghai"' in page.text
    bad = client.get("/v1/transparency", params=YEAR_QUERY | {"tz": "Mars/Olympus"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "tz"


@pytest.mark.parametrize("path", ["/transparency", "/v1/transparency"])
def test_the_public_report_refuses_an_unbounded_period(session, factory, path):
    """Anyone may ask for 0001-01-01 to 9999-12-30: every decided complaint, appeal and blocked
    listing is then loaded into Python on each anonymous, uncached request."""
    clock = FakeClock(history.START)
    client = TestClient(create_app(clock=clock, sessions=factory))
    r = client.get(path, params={"from": "0001-01-01", "to": "9999-12-30"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] in ("from", "to")
