import pytest

from config import health


@pytest.mark.django_db
def test_it_reports_every_component_up(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "components": {"database": "up", "broker": "up", "storage": "up", "model": "up"},
    }


@pytest.mark.django_db
def test_it_answers_503_and_names_the_component_that_is_down(client, monkeypatch, settings):
    settings.CUTROOM_MODEL = "u2net"  # configured but its file is not installed
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["components"]["model"] == "down"
    assert body["components"]["database"] == "up"


@pytest.mark.django_db
def test_it_reports_an_unreachable_broker_as_down(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}
    assert health.check_broker() is False
    assert client.get("/healthz").status_code == 503


@pytest.mark.django_db
def test_it_leaks_no_details_to_anonymous_callers(client, settings):
    settings.CUTROOM_MODEL = "u2net"
    text = client.get("/healthz").content.decode()
    assert "u2net" not in text
    assert "/" not in text.replace("\\/", "")
