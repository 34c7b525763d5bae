import io

import numpy as np
import pytest

from catalog.services.assets import asset_ingest
from catalog.services.products import product_create
from cutouts import engine
from tests.images import product_jpeg
from tests.run_id import run_seed


class FakeSegmenter:
    """Stands in for onnxruntime: says 'object' inside a centred box at model resolution."""

    def __init__(self, size: int = 320):
        self.size = size
        self.input_size = size
        self.calls = 0

    def predict(self, rgb):
        self.calls += 1
        mask = np.zeros((self.size, self.size), np.float32)
        q = self.size // 4
        mask[q:-q, q:-q] = 1.0
        return mask


@pytest.fixture
def fake_model(monkeypatch):
    segmenter = FakeSegmenter()
    spec = engine.model_spec("u2netp")
    monkeypatch.setattr(engine, "segmenter_for", lambda name: (segmenter, spec))
    return segmenter


@pytest.fixture
def make_assets(db, request):
    # Distinct pixels per test and per run (tests/run_id.py): storage may be shared by the
    # whole run and outlive it (S3 in CI), and content-addressed names must not collide.
    base = run_seed(request.node.nodeid)

    def make(count: int = 1, *, sku: str = "SKU-1", size=(640, 480), user=None,
             seed: int | None = None, photo=product_jpeg):
        """``count`` assets, one per product (a product holds at most nine positions), of
        ``photo(width, height, seed=)`` (JPEG bytes)."""
        from catalog.models import Product

        assets = []
        for i in range(count):
            product_sku = sku if count == 1 else f"{sku}-{i}"
            product = Product.objects.filter(sku=product_sku).first() or product_create(
                sku=product_sku)
            data = photo(*size, seed=(base if seed is None else seed) + i)
            result = asset_ingest(product=product, fileobj=io.BytesIO(data),
                                  filename=f"{product_sku}.jpg", user=user)
            assert result.status == "stored", result.reason
            assets.append(result.asset)
        return assets

    return make


@pytest.fixture
def no_broker(monkeypatch):
    """Cutout runs are not sent to a broker; returns the ids of the cutouts that would be."""
    from cutouts.tasks import cutout_run_task

    sent = []
    monkeypatch.setattr(cutout_run_task, "apply_async", lambda args, **kw: sent.append(args[0]))
    return sent


@pytest.fixture
def sent(monkeypatch):
    """Export jobs are not sent to a broker; returns the ids of the jobs that would be."""
    from cutouts.tasks import export_job_run_task

    calls = []
    monkeypatch.setattr(export_job_run_task, "delay", lambda job_id: calls.append(job_id))
    return calls


@pytest.fixture
def scissors_cut(make_assets, monkeypatch):
    """``scissors_cut(cloud=...)``: a finished v1 of a 640 x 480 photo of scissors
    (tests/cutouts/scissors.py): with a grey cloud between the blades, cut by ``soft`` (the
    profile that keeps faint alpha: ``fast`` makes it solid or nothing), without one by
    ``fast`` (``soft`` leaves the blades' edges soft on a photo of something else, marks of
    their own)."""
    from tests.cutouts.reviewdata import done_cutouts
    from tests.cutouts.scissors import CloudySegmenter, scissors_jpeg

    def make(*, cloud: bool):
        spec = engine.model_spec("u2netp")
        monkeypatch.setattr(engine, "segmenter_for",
                            lambda name: (CloudySegmenter(cloud), spec))
        return done_cutouts(make_assets(1, size=(640, 480), photo=scissors_jpeg),
                            profile_name="soft" if cloud else "fast")[0]
    return make
