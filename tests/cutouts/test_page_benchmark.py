"""The main pages' SQL statements stay the same however many products, images, versions,
batches and exports there are (the review grid once read each tile's review status with a
statement of its own: 60 more on a full page, QA M3), and ``manage.py page_benchmark``
measures the pages on a seeded catalogue it keeps for the next run."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cutouts.management.commands.page_benchmark import main_pages
from cutouts.models import Cutout, CutoutBatch, ExportJob, ReviewDecision
from tests.factories import ImageAssetFactory, ProductFactory, reviewer

pytestmark = pytest.mark.django_db


def _more_rows(n: int, user, made: dict | None = None) -> dict:
    """``n`` more of everything the pages list: products with two images, a version of each
    image awaiting review (and a second one of the first), one flagged, batches, exports and
    decisions; with ``made`` (an earlier call's), also ``n`` more images, versions and
    decisions on its product, batch and image, so the pages of one of them grow too. Rows
    only: the pages render from rows (the images are other requests)."""
    now = timezone.now()

    def version(asset, batch, number=1, **fields):
        return Cutout.objects.create(
            asset=asset, batch=batch, version=number, status="done", finished_at=now,
            rgba_name=f"cutouts/{asset.pk}/v{number}.png", width=1200, height=1000,
            **({"review_status": "pending", "preflags": ["halo_risk"], "risk": 0.5} | fields))

    first = made
    made = dict(made or {})
    for _ in range(n):
        product = ProductFactory()
        batch = CutoutBatch.objects.create(label="Shoot", status="done", total=3)
        assets = [ImageAssetFactory(product=product, position=position, status="in_review")
                  for position in ("MAIN", "PT01")]
        pending = [version(asset, batch) for asset in assets][-1]
        recut = version(assets[-1], batch, 2)
        flagged_asset = ImageAssetFactory(product=product, position="PT02",
                                          status="needs_retouch")
        flagged = version(flagged_asset, batch, review_status="flagged", flag_reasons=["halo"],
                          reviewed_by=user, reviewed_at=now)
        ReviewDecision.objects.create(cutout=flagged, asset_id=flagged_asset.pk, action="flag",
                                      reasons=["halo"], user=user)
        export = ExportJob.objects.create(presets=["amazon_main"], status="done",
                                          finished_at=now, progress_total=4, created_by=user)
        if first is None:
            made.update(product=product, asset=assets[-1], pending=pending, recut=recut,
                        batch=batch, flagged=flagged, export=export)
        else:  # the same product, image and batch, with more on them
            extra = ImageAssetFactory(product=first["product"], position="PT03",
                                      status="in_review")
            version(extra, first["batch"])
        ReviewDecision.objects.create(cutout=made["pending"], asset_id=made["asset"].pk,
                                      action="comment", comment="look at the strap", user=user)
    return made


def _counts(client, made: dict) -> dict[str, int]:
    pages = main_pages(product=made["product"], pending=made["pending"], recut=made["recut"],
                       flagged=made["flagged"], asset=made["asset"], batch=made["batch"],
                       export=made["export"])
    counts = {}
    for name, (url, headers) in pages.items():
        assert client.get(url, headers=headers).status_code == 200, name  # warm: one-off reads
        with CaptureQueriesContext(connection) as queries:
            client.get(url, headers=headers)
        counts[name] = len(queries)
    return counts


def test_it_keeps_each_main_page_to_the_same_queries_as_rows_double(manager_client):
    user = reviewer()
    made = _more_rows(3, user)
    few = _counts(manager_client, made)
    assert _more_rows(3, user, made) == made  # the same pages, on twice the rows
    assert _counts(manager_client, made) == few


def test_it_reads_the_grid_tiles_review_state_with_the_page(manager_client):
    _more_rows(2, reviewer())
    url = reverse("cutouts:review_grid")
    manager_client.get(url)
    with CaptureQueriesContext(connection) as queries:
        html = manager_client.get(url).content.decode()
    # one tile per image awaiting review, each with the token its card would send
    waiting = Cutout.objects.filter(review_status="pending").values("asset_id").distinct()
    assert html.count('name="cutout"') == waiting.count() == 4
    assert 'value="pending:0:2"' in html  # the re-cut image's tile: its newest is v2
    per_tile = [q["sql"] for q in queries.captured_queries
                if q["sql"].startswith('SELECT "cutouts_cutout"."id", "cutouts_cutout"."review_')]
    assert per_tile == []


@pytest.mark.slow
def test_it_seeds_once_measures_the_pages_and_writes_json(tmp_path, capsys):
    from django.core.management import call_command

    out = tmp_path / "pages.json"
    var = tmp_path / "bench"
    args = ["page_benchmark", "--var", str(var), "--products", "1", "--per-product", "2",
            "--size", "640x480", "--repeats", "1", "--json", str(out)]
    call_command(*args)
    result = json.loads(out.read_text())
    assert result["seeded"]["counts"]["images"] == 2
    assert result["counts"]["exports"] == 2 and result["counts"]["flagged"] >= 0
    names = [r["page"] for r in result["rows"]]
    assert "review grid" in names and "image: export thumbnail" in names
    assert all(r["median_ms"] > 0 and r["queries"] >= 0 for r in result["rows"])
    call_command(*args)  # the second run measures the same rows: no seeding
    assert json.loads(out.read_text())["seeded"] is None
    printed = capsys.readouterr().out
    # the benchmark's database is its own file, never the one the tests use
    assert str(connection.settings_dict["NAME"]) not in printed
