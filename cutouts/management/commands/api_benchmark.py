"""REST API speed in a throwaway environment: list endpoints at 50k products / 20k cutouts
(p50/p95 against the UI's own list pages as the baseline) and 100 x 4 MP uploads through the
API against the browser's upload endpoint, in the same run.

A child process gets its own SQLite database and media folder (cutouts.benchmarking's
throwaway_env), seeds it with bulk inserts and drives every request through Django's full
middleware stack in-process (django.test.Client): the numbers are server time without the
network, the same for API and baseline.
"""

import io
import json
import secrets
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from cutouts.benchmarking import print_table, product_photo, throwaway_env, write_json

MARK = "API_BENCHMARK_RESULT "
LIST_COLUMNS = [
    ("case", "case", "s"),
    ("n", "requests", "d"),
    ("p50_ms", "p50 ms", ".1f"),
    ("p95_ms", "p95 ms", ".1f"),
    ("baseline", "baseline (UI)", "s"),
    ("base_p95_ms", "UI p95 ms", ".1f"),
    ("ratio", "p95 ratio", ".2f"),
    ("target_ok", "p95 < 100", "s"),
]
UPLOAD_COLUMNS = [
    ("path", "upload via", "s"),
    ("n", "files", "d"),
    ("megapixels", "MP each", ".1f"),
    ("mb", "MB total", ".1f"),
    ("seconds", "seconds", ".1f"),
    ("files_per_s", "files/s", ".2f"),
    ("ratio", "vs browser", ".2f"),
]


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


class Command(BaseCommand):
    help = "Time the REST API's list endpoints and uploads against the UI (throwaway state)."

    def add_arguments(self, parser):
        parser.add_argument("--products", type=int, default=50_000)
        parser.add_argument("--cutouts", type=int, default=20_000)
        parser.add_argument("--requests", type=int, default=100,
                            help="requests per list case")
        parser.add_argument("--uploads", type=int, default=100, help="files per upload path")
        parser.add_argument("--size", default="2400x1680", help="upload photo size (4 MP)")
        parser.add_argument("--json", dest="json_path",
                            default=str(Path(settings.VAR_DIR) / "benchmarks" /
                                        "api_benchmark.json"))
        parser.add_argument("--keep", action="store_true", help="keep the throwaway folder")
        parser.add_argument("--phase", choices=["run"], help=Path(__file__).stem + " internal")

    def handle(self, *args, products, cutouts, requests, uploads, size, json_path, keep,
               phase, **options):
        width, height = (int(v) for v in size.lower().split("x"))
        if phase == "run":
            from django.test import override_settings

            # The UI baseline renders templates; the throwaway run has no collectstatic manifest.
            static = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
            with override_settings(STORAGES={**settings.STORAGES, "staticfiles": static}):
                result = _run(products, cutouts, requests, uploads, width, height)
            self.stdout.write(MARK + json.dumps(result))
            return
        env = throwaway_env("api-bench")
        try:
            cmd = [sys.executable, "manage.py", "api_benchmark", "--phase", "run",
                   "--products", str(products), "--cutouts", str(cutouts),
                   "--requests", str(requests), "--uploads", str(uploads), "--size", size]
            proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False,
                                  cwd=settings.BASE_DIR)
        finally:
            if keep:
                self.stderr.write(f"kept {env['CUTROOM_VAR_DIR']}")
            else:
                shutil.rmtree(env["CUTROOM_VAR_DIR"], ignore_errors=True)
        lines = [line for line in proc.stdout.splitlines() if line.startswith(MARK)]
        if proc.returncode or not lines:
            raise CommandError(f"benchmark child failed:\n{proc.stdout[-3000:]}\n"
                               f"{proc.stderr[-3000:]}")
        result = json.loads(lines[-1][len(MARK):])
        self.stdout.write(f"API list endpoints at {products:,} products / {cutouts:,} cutouts "
                          "(server time, full middleware, in-process client)")
        print_table(result["lists"], LIST_COLUMNS, self.stdout)
        self.stdout.write(f"\nUploads: {uploads} x {width}x{height} JPEG, one file per "
                          "request, API (key) vs browser endpoint (session), interleaved")
        print_table(result["uploads"], UPLOAD_COLUMNS, self.stdout)
        Path(json_path).parent.mkdir(parents=True, exist_ok=True)
        write_json(json_path, {"products": products, "cutouts": cutouts, **result})
        self.stdout.write(f"\nJSON: {json_path}")


# --- child (throwaway database) ---------------------------------------------------------------


def _seed(n_products: int, n_cutouts: int):
    from django.core.management import call_command

    from catalog.models import ImageAsset, Product
    from catalog.services import api_keys as apikeys
    from catalog.services.users import user_create
    from cutouts.models import Cutout, JobStatus, ReviewStatus

    call_command("migrate", verbosity=0)
    manager = user_create(username="bench", password=secrets.token_urlsafe(16),
                          role="catalog manager")
    brands = [f"Brand {i}" for i in range(40)]
    Product.objects.bulk_create([
        Product(sku=f"SKU-{i:07d}", title=f"Product {i}", brand=brands[i % 40],
                category=f"Cat {i % 25}") for i in range(n_products)
    ], batch_size=5000)
    ids = list(Product.objects.order_by("pk").values_list("pk", flat=True))
    step = max(1, len(ids) // max(1, n_cutouts))
    ImageAsset.objects.bulk_create([
        ImageAsset(product_id=ids[(i * step) % len(ids)], sha256=f"{i:064x}",
                   original_name=f"originals/{i}.jpg", working_name=f"working/{i}.png",
                   bytes=1000, width=2000, height=2000, working_width=2000,
                   working_height=2000, format="JPEG", colour_mode="RGB",
                   status="cut_out") for i in range(n_cutouts)
    ], batch_size=5000)
    asset_ids = list(ImageAsset.objects.order_by("pk").values_list("pk", flat=True))
    flags = [[], ["halo_risk"], ["fragments", "touches_frame"], []]
    Cutout.objects.bulk_create([
        Cutout(asset_id=a, version=1, status=JobStatus.DONE, model_name="u2netp",
               review_status=ReviewStatus.PENDING if i % 3 else ReviewStatus.APPROVED,
               risk=(i % 97) / 40, preflags=flags[i % 4], rgba_name=f"cutouts/{i}.png")
        for i, a in enumerate(asset_ids)
    ], batch_size=5000)
    token = apikeys.api_key_create(user=manager, name="benchmark", scope="manager",
                                   rate_per_minute=10**9).token
    return manager, token


def _timed(client, url: str, n: int, **headers) -> list[float]:
    times = []
    for _ in range(n):
        started = time.perf_counter()
        response = client.get(url, **headers)
        times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}")
    return times


def _walk_cursor(client, url: str, n: int, auth: dict) -> list[float]:
    """Follow next_cursor page after page (deep pages are where OFFSET would hurt)."""
    times, next_url = [], url
    for _ in range(n):
        started = time.perf_counter()
        response = client.get(next_url, **auth)
        times.append((time.perf_counter() - started) * 1000)
        cursor = response.json().get("next_cursor")
        sep = "&" if "?" in url else "?"
        next_url = f"{url}{sep}cursor={cursor}" if cursor else url
    return times


def _run(n_products, n_cutouts, n_requests, n_uploads, width, height) -> dict:
    import logging

    from django.test import Client

    logging.getLogger("cutroom.api").setLevel(logging.WARNING)  # console I/O is not the API
    manager, token = _seed(n_products, n_cutouts)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    # ALLOWED_HOSTS of the dev settings; the throwaway run is not a test run.
    api, ui = Client(SERVER_NAME="localhost"), Client(SERVER_NAME="localhost")
    ui.force_login(manager)
    deep = "SKU-" + f"{n_products // 2:07d}"
    cases = [
        ("products page 1", "/api/v1/products?limit=50", "product list",
         "/catalog/products/", None),
        ("products page 1 + total", "/api/v1/products?limit=50&total=true", "product list",
         "/catalog/products/", None),
        ("products deep page", "/api/v1/products?limit=50&cursor=", "product list deep",
         f"/catalog/products/?after={deep}", deep),
        ("products brand filter", "/api/v1/products?limit=50&brand=Brand%207",
         "product list brand", "/catalog/products/?brand=Brand+7", None),
        ("products search", "/api/v1/products?limit=50&q=SKU-00123", "product list search",
         "/catalog/products/?q=SKU-00123", None),
        ("cutouts walk (cursor)", "/api/v1/cutouts?limit=50", "review queue",
         "/cutouts/review/", "walk"),
        ("cutouts pending", "/api/v1/cutouts?limit=50&review_status=pending", "review queue",
         "/cutouts/review/", None),
        ("cutouts preflag", "/api/v1/cutouts?limit=50&preflag=halo_risk",
         "review queue preflag", "/cutouts/review/?preflag=halo_risk", None),
    ]
    from catalog.api_support import cursor_encode

    rows = []
    for name, url, base_name, base_url, special in cases:
        if special == "walk":
            times = _walk_cursor(api, url, n_requests, auth)
        elif special:
            url = url + cursor_encode({"after": special})
            times = _timed(api, url, n_requests, **auth)
        else:
            _timed(api, url, 3, **auth)  # warm caches as a real server would be
            times = _timed(api, url, n_requests, **auth)
        _timed(ui, base_url, 3)
        base = _timed(ui, base_url, max(20, n_requests // 2))
        p95, b95 = _pct(times, 0.95), _pct(base, 0.95)
        rows.append({"case": name, "n": len(times), "p50_ms": statistics.median(times),
                     "p95_ms": p95, "baseline": base_name, "base_p95_ms": b95,
                     "ratio": p95 / b95 if b95 else None,
                     "target_ok": "yes" if p95 < 100 else "NO"})
    return {"lists": rows, "uploads": _uploads(api, ui, auth, n_uploads, width, height)}


def _uploads(api, ui, auth, n: int, width: int, height: int) -> list[dict]:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from catalog.models import Product

    photos = []
    for i in range(2 * n):
        out = io.BytesIO()
        product_photo(width, height, seed=10_000 + i).save(out, "JPEG", quality=90)
        photos.append(out.getvalue())
    per_product = 9  # a product holds nine positions
    api_products = [Product.objects.create(sku=f"UPA-{i}") for i in range(-(-n // per_product))]
    ui_products = [Product.objects.create(sku=f"UPB-{i}") for i in range(-(-n // per_product))]
    spent = {"api": 0.0, "browser": 0.0}
    for i in range(n):
        # Interleaved, so both paths see the same disk cache, SQLite state and CPU heat.
        for path in ("api", "browser") if i % 2 == 0 else ("browser", "api"):
            data = photos[2 * i + (path == "browser")]
            upload = SimpleUploadedFile(f"p{i}.jpg", data, content_type="image/jpeg")
            started = time.perf_counter()
            if path == "api":
                product = api_products[i // per_product]
                response = api.post(f"/api/v1/products/{product.pk}/images", {"file": upload},
                                    **auth)
            else:
                product = ui_products[i // per_product]
                response = ui.post(f"/catalog/products/{product.pk}/upload", {"file": upload},
                                   HTTP_ACCEPT="application/json")
            spent[path] += time.perf_counter() - started
            if response.status_code != 201:
                raise RuntimeError(f"{path} upload answered {response.status_code}: "
                                   f"{response.content[:300]!r}")
    mb = sum(len(p) for p in photos[:n]) / 1e6
    rows: list[dict[str, Any]] = []
    for path in ("browser", "api"):
        rows.append({"path": path, "n": n, "megapixels": width * height / 1e6, "mb": mb,
                     "seconds": spent[path], "files_per_s": n / spent[path]})
    for row in rows:
        row["ratio"] = row["files_per_s"] / rows[0]["files_per_s"]
    return rows
