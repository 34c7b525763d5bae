import logging
import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from catalog.api_models import ApiKey
from catalog.roles import MANAGER, REVIEWER
from catalog.services import api_keys as apikeys
from config.api import api
from tests.api.conftest import ApiClient, key_for
from tests.factories import ProductFactory, manager, reviewer

pytestmark = pytest.mark.django_db


def _operations():
    schema = api.get_openapi_schema()
    for path, ops in schema["paths"].items():
        for method in ops:
            yield method, re.sub(r"\{[^}]+\}", "1", path)


@pytest.mark.parametrize(("method", "path"), list(_operations()))
def test_it_answers_anonymous_calls_with_a_401_problem(client, method, path):
    response = getattr(client, method)(path, content_type="application/json")
    assert response.status_code == 401, (method, path)
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 401 and body["type"].startswith("urn:cutroom:problem:")
    assert "WWW-Authenticate" in response


@pytest.mark.parametrize("path", ["/api/v1/nope", "/api/v1/", "/api/v1/products/1/nope",
                                  "/api/v1/exports/1/cancel/nope"])
@pytest.mark.parametrize("who", ["anonymous", "key"])
def test_it_answers_unknown_api_paths_with_a_404_problem(path, who):
    client = ApiClient(key_for(manager(), "manager")) if who == "key" else ApiClient()
    for response in (client.get(path), client.post(path, {})):
        assert response.status_code == 404, path
        assert response["Content-Type"] == "application/problem+json"
        body = response.json()
        assert body["status"] == 404 and body["type"] == "urn:cutroom:problem:not-found"
        assert path in body["detail"]


def test_it_still_answers_known_paths_and_wrong_methods_as_before():
    client = ApiClient(key_for(manager(), "manager"))
    assert client.get("/api/v1/products").status_code == 200
    assert client.delete("/api/v1/presets").status_code == 405
    assert Client().get("/api/v1/schema").status_code == 200


def test_it_refuses_wrong_revoked_and_expired_keys():
    user = manager()
    good = apikeys.api_key_create(user=user, name="pim", scope="manager")
    assert ApiClient(good.token).get("/api/v1/products").status_code == 200
    assert ApiClient(good.token[:-2] + "xx").get("/api/v1/products").status_code == 401
    assert ApiClient("crk_nothing_here").get("/api/v1/products").status_code == 401
    expiring = apikeys.api_key_create(user=user, name="old", scope="manager",
                                      expires_at=timezone.now() + timedelta(days=1))
    ApiKey.objects.filter(pk=expiring.key.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1))
    assert ApiClient(expiring.token).get("/api/v1/products").status_code == 401
    apikeys.api_key_revoke(key=good.key)
    assert ApiClient(good.token).get("/api/v1/products").status_code == 401


def test_it_stores_only_a_hash_of_the_key():
    new = apikeys.api_key_create(user=manager(), name="pim", scope="read_only")
    row = ApiKey.objects.get(pk=new.key.pk)
    assert new.token not in (row.secret_hash, row.prefix)
    assert new.token.startswith(f"crk_{row.prefix}_")


def test_it_accepts_the_key_in_x_api_key_too():
    token = key_for(manager(), "read_only")
    assert Client().get("/api/v1/products", HTTP_X_API_KEY=token).status_code == 200


def test_it_lets_a_read_only_key_read_but_not_write(readonly_api):
    assert readonly_api.get("/api/v1/products").status_code == 200
    response = readonly_api.post("/api/v1/products", {"sku": "RO-1"})
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    assert "upload_images" in response.json()["detail"]


def test_it_keeps_reviewer_keys_out_of_manager_operations(reviewer_api):
    assert reviewer_api.post("/api/v1/products", {"sku": "RV-1"}).status_code == 403
    assert reviewer_api.post("/api/v1/exports", {"presets": ["amazon_main"]}).status_code == 403
    assert reviewer_api.post("/api/v1/batches", {"all_pending": True}).status_code == 403
    assert reviewer_api.get("/api/v1/webhooks").status_code == 403
    assert reviewer_api.get("/api/v1/cutouts").status_code == 200


def test_it_never_gives_a_key_more_than_its_owners_role():
    user = reviewer()
    with pytest.raises(ValidationError):
        apikeys.api_key_create(user=user, name="x", scope="manager")
    boss = manager()
    token = key_for(boss, "manager")
    assert ApiClient(token).post("/api/v1/products", {"sku": "CAP-1"}).status_code == 201
    boss.groups.set([Group.objects.get(name=REVIEWER)])
    assert ApiClient(token).post("/api/v1/products", {"sku": "CAP-2"}).status_code == 403


def test_it_works_with_the_browser_session_and_its_csrf_token():
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager())
    assert client.get("/api/v1/products").status_code == 200
    refused = client.post("/api/v1/products", {"sku": "S-1"}, content_type="application/json")
    assert refused.status_code == 403 and refused.json()["type"].endswith(":csrf")
    client.get("/api/keys/")  # sets the csrftoken cookie
    token = client.cookies["csrftoken"].value
    created = client.post("/api/v1/products", {"sku": "S-1"}, content_type="application/json",
                          HTTP_X_CSRFTOKEN=token)
    assert created.status_code == 201


def test_it_rate_limits_per_key_with_retry_after():
    user = manager()
    limited = apikeys.api_key_create(user=user, name="slow", scope="read_only",
                                     rate_per_minute=2).token
    other = key_for(user, "read_only")
    client = ApiClient(limited)
    assert [client.get("/api/v1/presets").status_code for _ in range(2)] == [200, 200]
    third = client.get("/api/v1/presets")
    assert third.status_code == 429
    assert third["Content-Type"] == "application/problem+json"
    assert 1 <= int(third["Retry-After"]) <= 60
    assert ApiClient(other).get("/api/v1/presets").status_code == 200


def test_it_logs_every_request_with_the_keys_name(caplog):
    new = apikeys.api_key_create(user=manager(), name="Akeneo sync", scope="read_only")
    with caplog.at_level(logging.INFO, logger="cutroom.api"):
        ApiClient(new.token).get("/api/v1/products")
        Client().get("/api/v1/products")
    lines = [r.getMessage() for r in caplog.records if r.name == "cutroom.api"]
    assert any("GET /api/v1/products 200" in line and "key:Akeneo sync" in line for line in lines)
    assert any("401" in line and "anonymous" in line for line in lines)


# --- the keys page ------------------------------------------------------------------------------


def test_it_shows_a_new_key_once_on_the_keys_page(client):
    user = manager()
    client.force_login(user)
    response = client.post("/api/keys/", {"name": "Shopify", "scope": "manager",
                                          "expires_in_days": "30"}, follow=True)
    assert response.redirect_chain == [("/api/keys/", 302)]
    token = re.search(r"crk_[0-9a-f]+_[A-Za-z0-9_-]+", response.content.decode()).group(0)
    assert response["Cache-Control"] == "no-store"
    assert ApiClient(token).get("/api/v1/products").status_code == 200
    again = client.get("/api/keys/")
    assert "Shopify" in again.content.decode() and token not in again.content.decode()
    assert "no-store" not in again.get("Cache-Control", "")


def test_it_creates_one_key_however_often_the_page_is_reloaded(client):
    from catalog.models import ApiKey

    client.force_login(manager())
    created = client.post("/api/keys/", {"name": "PIM", "scope": "read_only",
                                         "expires_in_days": "30"})
    # Post/Redirect/Get: a reload repeats the GET, never the POST
    assert created.status_code == 302 and created["Location"] == "/api/keys/"
    assert "crk_" not in created.cookies.output()
    pages = [client.get("/api/keys/").content.decode() for _ in range(2)]
    assert 'id="new-token"' in pages[0]
    assert 'id="new-token"' not in pages[1]
    assert ApiKey.objects.count() == 1


def test_it_keeps_the_form_and_creates_nothing_when_a_key_is_refused(client):
    from catalog.models import ApiKey

    client.force_login(manager())
    response = client.post("/api/keys/", {"name": "", "scope": "manager"})
    assert response.status_code == 400 and 'id="new-token"' not in response.content.decode()
    assert not ApiKey.objects.exists()


def test_it_makes_a_key_that_never_expires_when_the_expiry_is_left_empty(client):
    from catalog.models import ApiKey

    client.force_login(manager())
    page = client.get("/api/keys/").content.decode()
    assert "clear the field for a key that never expires" in page
    assert 'name="expires_in_days" value="365"' in page
    client.post("/api/keys/", {"name": "PIM", "scope": "read_only", "expires_in_days": ""})
    client.post("/api/keys/", {"name": "Feed", "scope": "read_only", "expires_in_days": "30"})
    keys = {k.name: k.expires_at for k in ApiKey.objects.all()}
    assert keys["PIM"] is None and keys["Feed"] is not None


def test_it_offers_a_reviewer_only_scopes_within_the_role(client):
    client.force_login(reviewer())
    page = client.get("/api/keys/").content.decode()
    assert 'value="reviewer"' in page and 'value="manager"' not in page
    refused = client.post("/api/keys/", {"name": "x", "scope": "manager"})
    assert refused.status_code == 400
    assert ApiKey.objects.count() == 0


def test_it_revokes_a_key_from_the_page(client):
    user = manager()
    new = apikeys.api_key_create(user=user, name="pim", scope="read_only")
    client.force_login(user)
    assert client.post(f"/api/keys/{new.key.pk}/revoke").status_code == 302
    assert ApiClient(new.token).get("/api/v1/products").status_code == 401


def test_it_does_not_let_a_reviewer_revoke_anothers_key(client):
    # names with a space: a page's random CSRF token (letters and digits) once held "qa"
    new = apikeys.api_key_create(user=manager(), name="PIM sync", scope="read_only")
    colleague = apikeys.api_key_create(user=reviewer(), name="QA laptop", scope="read_only")
    client.force_login(reviewer())
    for other in (new, colleague):
        assert client.post(f"/api/keys/{other.key.pk}/revoke").status_code == 404
        assert ApiClient(other.token).get("/api/v1/products").status_code == 200
    page = client.get("/api/keys/").content.decode()
    assert 'id="other-keys"' not in page and "PIM sync" not in page and "QA laptop" not in page


def test_it_lets_a_manager_see_and_revoke_every_users_key_without_its_secret(client):
    leaver = reviewer(username="leaver")
    new = apikeys.api_key_create(user=leaver, name="Akeneo sync", scope="reviewer")
    ApiClient(new.token).get("/api/v1/products")  # sets last_used_at
    new.key.refresh_from_db()
    client.force_login(manager())
    page = client.get("/api/keys/").content.decode()
    others = page.split('id="other-keys"', 1)[1]
    row = others.split("</tr>", 2)[1]
    assert "leaver" in row and "Akeneo sync" in row and f"crk_{new.key.prefix}_…" in row
    assert new.key.last_used_at.strftime("%Y-%m-%d") in row
    assert new.token not in page and new.key.secret_hash not in page
    # token_urlsafe may itself contain "_": the secret is everything after crk_<prefix>_
    assert new.token.split("_", 2)[2] not in page  # not even the secret part alone

    revoked = client.post(f"/api/keys/{new.key.pk}/revoke", follow=True)
    assert revoked.status_code == 200
    assert "Key Akeneo sync of leaver revoked." in revoked.content.decode()
    assert ApiClient(new.token).get("/api/v1/products").status_code == 401


def test_it_sends_anonymous_visitors_of_the_keys_page_to_login(client):
    response = client.get("/api/keys/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_it_shows_products_to_a_session_user(client):
    ProductFactory(sku="VIS-1")
    client.force_login(Group.objects.get_or_create(name=MANAGER)[0].user_set.create(
        username="m2"))
    assert client.get("/api/v1/products").status_code == 200
