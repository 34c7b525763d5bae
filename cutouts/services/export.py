"""Export writes: presets seeding, renditions (render + compliance, cached) and export jobs.

An export job streams its ZIP entry by entry into a temporary file and hands that file to
``storages["exports"]`` in chunks, so memory stays flat however many variants it holds: at any
moment only the few cutouts being rendered (a bounded window) are in memory.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import os
import re
import shutil
import tempfile
import time
import zipfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from catalog import events, jobs

from .. import variants
from ..imaging.models import REGISTRY
from ..models import FINAL_STATUSES, Cutout, ExportJob, JobStatus, Preset, Rendition
from ..selectors import export as export_selectors
from ..selectors import scenes as scene_selectors
from ..selectors.export import PlannedItem, PresetError
from .jobs import notification_create
from .status import assets_status_sync

logger = logging.getLogger(__name__)

#: Full citations for the source codes used in cutouts.variants.presets (checked 2026-11).
PRESET_SOURCES = {
    "AMZ": "Amazon Seller Central, Product image requirements (help page G1881)",
    "EBAY": "eBay Picture policy, https://www.ebay.com/help/policies/listing-policies/"
            "picture-policy?id=4370",
    "WMT": "Walmart Marketplace Learn, Product detail page: Image guidelines & requirements",
    "SHOP": "Shopify Help Center, Product media types and requirements, "
            "https://help.shopify.com/en/manual/products/product-media/product-media-types",
    "ETSY": "Etsy Help, How to add photos to your listing",
    "GMC": "Google Merchant Center Help, Image link [image_link], "
           "https://support.google.com/merchants/answer/6324350",
}
#: hard limit of one export run (the task's time limit); a run whose worker died is found by
#: its stale heartbeat and resumed by the reconciler (catalog.jobs), long before this
EXPORT_TIME_LIMIT = settings.CUTROOM_EXPORT_TIME_LIMIT
MAX_REPORTED = 1000  # excluded/failed rows kept on the job row; the manifest has them all
PROGRESS_EVERY_SECONDS = 0.5
_FOLDER_RE = re.compile(r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$")


class ExportError(ValueError):
    pass


class ExportCollisionError(ExportError):
    """Planned file names would overwrite each other; nothing was written."""

    def __init__(self, collisions: list[str]):
        self.collisions = collisions
        super().__init__(f"{len(collisions)} naming collision(s): " + "; ".join(collisions[:5]))


class _Cancelled(Exception):
    pass


# --- presets ------------------------------------------------------------------------------


def preset_seed(*, model=Preset, using: str = "default") -> int:
    """Create missing built-in presets. Existing rows are left alone: the admin owns them.

    ``model`` lets the post_migrate handler pass the historical model.
    """
    created = 0
    for p in variants.PRESETS.values():
        _, made = model.objects.using(using).get_or_create(name=p.name, defaults={
            "label": p.label, "spec": p.spec, "naming": p.naming, "rules": p.rules.to_dict(),
            "sources": "\n".join(f"[{code}] {PRESET_SOURCES.get(code, code)}"
                                 for code in p.sources),
        })
        created += made
    return created


# --- renditions ---------------------------------------------------------------------------


def _model_licence(model_name: str) -> variants.ModelLicence | None:
    if not model_name:
        return None
    spec = REGISTRY.get(model_name)
    if spec is None:
        return variants.ModelLicence(model=model_name)
    return variants.ModelLicence(
        model=spec.name, licence=spec.licence,
        commercial_use=False if spec.licence_restricts_commercial else None,
    )


def _rules_fingerprint(rules: variants.Rules) -> str:
    payload = json.dumps(rules.to_dict(), sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _compliance_dict(result: variants.ComplianceResult, fingerprint: str,
                     product_bbox) -> dict:
    return {
        "ok": result.ok, "summary": result.summary(), "errors": result.errors,
        "warnings": result.warnings, "measurements": json.loads(
            json.dumps(result.measurements, default=str)),
        "rules": fingerprint, "product_bbox": list(product_bbox) if product_bbox else None,
    }


@dataclass(frozen=True)
class _Source:
    cutout_id: int
    rgba_name: str
    shadow_name: str
    model_name: str


@dataclass(frozen=True)
class _Target:
    preset: variants.Preset
    spec: str  # canonical
    rules: variants.Rules
    cached: dict | None = None  # the Rendition row's values, when one exists
    #: fingerprint of the library backgrounds/logos a scene spec renders with ("" if none)
    assets_key: str = ""
    library: tuple = ()  # scene_selectors.LibraryItem values, read outside render threads


@dataclass
class _Output:
    target: _Target
    data: bytes | None = None
    error: str = ""
    fields: dict = field(default_factory=dict)  # Rendition columns
    fresh: bool = False  # the Rendition row must be written

    @property
    def ok(self) -> bool:
        return bool(self.fields.get("compliance_ok"))


_RENDITION_FIELDS = ("cache_key", "file_name", "format", "width", "height", "bytes", "sha256",
                     "fill_pct", "compliance_ok", "compliance")


def _read(storage, name: str) -> bytes:
    with storage.open(name, "rb") as fh:
        return fh.read()


def _rendition_name(cache_key: str, ext: str) -> str:
    return f"renditions/{cache_key[:2]}/{cache_key}.{ext}"


def _produce(source: _Source, targets: list[_Target]) -> list[_Output]:
    """Pure work for one cutout (storage I/O, rendering, checks; no database): safe to run
    in a worker thread. Each target's bytes come from the rendition cache when present."""
    storage = storages["default"]
    licence = _model_licence(source.model_name)
    loaded: dict = {}

    def load():
        if not loaded:
            rgba_bytes = _read(storage, source.rgba_name)
            shadow_bytes = _read(storage, source.shadow_name) if source.shadow_name else b""
            h = hashlib.sha256(rgba_bytes)
            h.update(b"\0shadow\0" + shadow_bytes)  # scene assets: see assets_key below
            image = Image.open(io.BytesIO(rgba_bytes))
            image.load()
            loaded["rgba"] = image if image.mode == "RGBA" else image.convert("RGBA")
            loaded["shadow_bytes"] = shadow_bytes
            loaded["hash"] = h.hexdigest()
        return loaded

    outputs = []
    for target in targets:
        out = _Output(target)
        outputs.append(out)
        fingerprint = _rules_fingerprint(target.rules)
        cached = target.cached
        if cached:
            try:
                out.data = _read(storage, cached["file_name"])
                out.fields = {k: cached[k] for k in _RENDITION_FIELDS}
                if (cached.get("compliance") or {}).get("rules") != fingerprint:
                    # The preset's rules changed since this file was checked: check again.
                    bbox = (cached.get("compliance") or {}).get("product_bbox")
                    result = variants.check_variant(
                        out.data, target.rules, product_bbox=tuple(bbox) if bbox else None,
                        fill_pct=cached.get("fill_pct"), model_licence=licence)
                    out.fields.update(compliance_ok=result.ok,
                                      compliance=_compliance_dict(result, fingerprint, bbox))
                    out.fresh = True
                continue
            except FileNotFoundError:
                out.data = None  # purged from storage: render it again below
        try:
            src = load()
            spec = variants.parse_spec(target.spec)
            shadow = None
            if spec.shadow == "keep" and src["shadow_bytes"]:
                shadow = Image.open(io.BytesIO(src["shadow_bytes"]))
            assets = (scene_selectors.scene_assets(items=target.library)
                      if target.library else None)
            rendered = variants.render_variant(src["rgba"], spec, shadow=shadow, assets=assets)
            result = variants.check_rendered(rendered, target.rules, model_licence=licence)
            for error in variants.check_spec(spec, target.rules):
                result.error(error)
            for warning in rendered.warnings:
                result.warn(warning)
        except FileNotFoundError as exc:
            out.error = f"cutout file missing from storage: {exc}"
            continue
        except variants.VariantError as exc:
            out.error = f"cannot render: {exc}"
            continue
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
            # A corrupt cutout file spoils its own variants, not the whole export.
            out.error = f"cannot read the cutout file: {type(exc).__name__}: {exc}"
            continue
        # an edited library background (content, floor, light) changes assets_key: re-render
        cache_key = spec.cache_key(src["hash"] + target.assets_key)
        name = _rendition_name(cache_key, rendered.extension)
        # Content-addressed: an existing file under this key has exactly these bytes.
        if not storage.exists(name):
            name = storage.save(name, ContentFile(rendered.data, name=name))
        out.data = rendered.data
        out.fresh = True
        out.fields = {
            "cache_key": cache_key, "file_name": name, "format": rendered.format,
            "width": rendered.width, "height": rendered.height, "bytes": rendered.size_bytes,
            "sha256": rendered.sha256, "fill_pct": rendered.fill_pct,
            "compliance_ok": result.ok,
            "compliance": {**_compliance_dict(result, fingerprint, rendered.product_bbox),
                           "assets": target.assets_key},
        }
    return outputs


def _persist(cutout_id: int, out: _Output) -> Rendition | None:
    if not out.fields:
        return None
    if not out.fresh:
        return None
    rendition, _ = Rendition.objects.update_or_create(
        cutout_id=cutout_id, spec=out.target.spec, defaults=out.fields)
    return rendition


def _targets(cutout_ids: list[int], presets: list[variants.Preset]) -> dict[int, list[_Target]]:
    parsed = {p.name: variants.parse_spec(p.spec) for p in presets}
    specs = {name: spec.canonical() for name, spec in parsed.items()}
    library = {name: scene_selectors.scene_library(slugs=spec.library_slugs())
               for name, spec in parsed.items()}
    keys = {name: scene_selectors.scene_fingerprint(items=library[name],
                                                    slugs=spec.library_slugs())
            for name, spec in parsed.items()}
    cached: dict[tuple[int, str], dict] = {}
    rows = Rendition.objects.filter(cutout_id__in=cutout_ids, spec__in=set(specs.values()))
    for row in rows.values("cutout_id", "spec", *_RENDITION_FIELDS):
        cached[(row["cutout_id"], row["spec"])] = row

    def fresh(cid: int, name: str) -> dict | None:
        row = cached.get((cid, specs[name]))
        if row is not None and (row.get("compliance") or {}).get("assets", "") != keys[name]:
            return None  # rendered with an older version of a library background or logo
        return row

    return {
        cid: [_Target(p, specs[p.name], p.rules, fresh(cid, p.name), keys[p.name],
                      library[p.name])
              for p in presets]
        for cid in cutout_ids
    }


def _source(cutout: Cutout) -> _Source:
    return _Source(cutout.pk, cutout.rgba_name, cutout.shadow_name, cutout.model_name)


def rendition_get_or_create(
    *, cutout: Cutout, preset: Preset | variants.Preset | str | None = None,
    spec: str | None = None,
) -> Rendition:
    """The rendition of this cutout version with a preset's spec (or a bare spec, checked
    only for decodability and licence), rendered on first use and cached in storage.

    Raises ExportError when the cutout cannot be rendered with that spec.
    """
    if (preset is None) == (spec is None):
        raise ExportError("Give either a preset or a spec.")
    if isinstance(preset, str):
        preset = export_selectors.preset_resolve(names=[preset])[0]
    elif isinstance(preset, Preset):
        preset = export_selectors.preset_as_variant(preset)
    if preset is None:
        try:
            canonical = variants.parse_spec(spec).canonical()
        except variants.SpecError as exc:
            raise ExportError(str(exc))
        preset = variants.Preset("custom", "Custom spec", canonical, "{sku}.{ext}",
                                 variants.Rules())
    if not cutout.rgba_name:
        raise ExportError(f"Cutout {cutout} has no RGBA file.")
    target = _targets([cutout.pk], [preset])[cutout.pk][0]
    out = _produce(_source(cutout), [target])[0]
    if out.error:
        raise ExportError(out.error)
    return _persist(cutout.pk, out) or Rendition.objects.get(cutout=cutout, spec=target.spec)


# --- export jobs --------------------------------------------------------------------------


def _filters(product_ids, brand, approved_since) -> dict:
    filters: dict = {}
    if product_ids:
        filters["product_ids"] = sorted({int(p) for p in product_ids})
    if brand:
        filters["brand"] = brand.strip()
    if approved_since:
        filters["approved_since"] = (approved_since.isoformat()
                                     if isinstance(approved_since, date) else str(approved_since))
    return filters


def _plan(presets: list[str], filters: dict) -> export_selectors.ExportPlan:
    try:
        resolved = export_selectors.preset_resolve(names=presets)
    except PresetError as exc:
        raise ExportError(str(exc))
    return export_selectors.export_plan(
        cutouts=export_selectors.export_candidates(**filters), presets=resolved)


def _clean_folder(folder: str) -> str:
    folder = folder.strip().strip("/")
    if not folder:
        return ""
    if not _FOLDER_RE.match(folder) or any(p in (".", "..") for p in folder.split("/")):
        raise ExportError("A folder name may use letters, digits, '.', '_', '-' and '/'.")
    return folder


@transaction.atomic
def export_job_create(
    *, user=None, presets: Iterable[str], product_ids: Iterable[int] | None = None,
    brand: str = "", approved_since: date | str | None = None, dry_run: bool = False,
    include_failing: bool = False, destination: str = ExportJob.Destination.DOWNLOAD,
    folder: str = "", enqueue: bool = True,
) -> ExportJob:
    """Validate and queue an export. Naming collisions are refused here, before any work.

    No product, brand or date means every approved cutout.
    """
    presets = list(dict.fromkeys(presets))
    filters = _filters(product_ids, brand, approved_since)
    if destination not in ExportJob.Destination.values:
        raise ExportError(f"Unknown destination {destination!r}.")
    folder = _clean_folder(folder)
    if destination == ExportJob.Destination.FOLDER and folder and \
            storages["exports"].exists(f"{folder}/manifest.csv"):
        raise ExportError(f"The export folder {folder!r} already holds an export.")
    plan = _plan(presets, filters)
    if not plan.items:
        raise ExportError("Nothing to export: no approved cutouts match these filters.")
    if plan.collisions:
        raise ExportCollisionError(plan.collisions)
    job = ExportJob.objects.create(
        created_by=user if user is not None and user.is_authenticated else None,
        presets=presets, filters=filters, dry_run=dry_run, include_failing=include_failing,
        destination=destination, folder=folder, progress_total=len(plan.items),
    )
    if destination == ExportJob.Destination.FOLDER and not folder:
        ExportJob.objects.filter(pk=job.pk).update(
            folder=f"export-{job.pk}-{timezone.now():%Y%m%d-%H%M%S}")
        job.refresh_from_db()
    if enqueue:
        from ..tasks import export_job_run_task

        transaction.on_commit(lambda: export_job_run_task.delay(job.pk))
    return job


def export_job_claim(*, job_id: int, worker: str = "") -> str | None:
    """Compare-and-set queued -> running; only the holder of the token may finish the job.
    A run whose worker died is put back to queued by the reconciler and claimed again; it
    starts over from the rendition cache, so nothing already rendered is rendered twice."""
    return jobs.job_claim(ExportJob, job_id, worker=worker, message="", progress_done=0)


@transaction.atomic
def export_job_cancel(*, job: ExportJob) -> bool:
    """Stop a queued or running export; a running one stops at its next progress update."""
    return bool(ExportJob.objects.filter(
        pk=job.pk, status__in=[JobStatus.QUEUED, JobStatus.RUNNING]
    ).update(status=JobStatus.CANCELLED, finished_at=timezone.now(), message="Cancelled."))


def _threads() -> int:
    configured = getattr(settings, "CUTROOM_EXPORT_THREADS", 0)
    return max(1, configured or min(2, os.cpu_count() or 1))


def _grouped(items: list[PlannedItem]) -> Iterator[tuple[int, list[PlannedItem]]]:
    current: list[PlannedItem] = []
    for item in items:
        if current and current[0].cutout_id != item.cutout_id:
            yield current[0].cutout_id, current
            current = []
        current.append(item)
    if current:
        yield current[0].cutout_id, current


def _results(groups: list[tuple[int, list[PlannedItem]]], presets: dict[str, variants.Preset],
             render: bool) -> Iterator[tuple[list[PlannedItem], list[_Output | None]]]:
    """Outputs per cutout, in plan order. Rendering runs in a small thread pool over a
    bounded window of cutouts, so memory does not grow with the export's size."""
    threads = _threads() if render else 1
    window = threads * 2
    pending: deque = deque()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for start in range(0, len(groups), 50):
            chunk = groups[start:start + 50]
            ids = [cid for cid, _ in chunk]
            cutouts = {c.pk: c for c in Cutout.objects.filter(pk__in=ids).only(
                "pk", "rgba_name", "shadow_name", "model_name")}
            targets = _targets(ids, [presets[n] for n in dict.fromkeys(
                i.preset for _, items in chunk for i in items)])
            for cid, items in chunk:
                pending.append(_submit(pool if render else None, cutouts.get(cid), items,
                                       targets[cid]))
                if len(pending) >= window:
                    yield _collect(*pending.popleft())
        while pending:
            yield _collect(*pending.popleft())


def _submit(pool, cutout: Cutout | None, items: list[PlannedItem], targets: list[_Target]):
    wanted = [t for t in targets
              if any(i.preset == t.preset.name and not i.error for i in items)]
    if cutout is None or not wanted:
        return items, None, []
    if pool is None:
        return items, None, wanted
    return items, pool.submit(_produce, _source(cutout), wanted), []


def _collect(items, future, cached_targets) -> tuple[list[PlannedItem], list[_Output | None]]:
    if future is not None:
        by_preset = {o.target.preset.name: o for o in future.result()}
    else:
        # Dry run: report what the rendition cache already knows, render nothing.
        by_preset = {t.preset.name: _Output(t, fields=dict(t.cached))
                     for t in cached_targets if t.cached}
    return items, [by_preset.get(i.preset) for i in items]


class _ZipSink:
    def __init__(self):
        self.file = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        # Images are already compressed: storing them costs no space and saves the CPU.
        self.zip = zipfile.ZipFile(self.file, "w", compression=zipfile.ZIP_STORED,
                                   allowZip64=True)

    @staticmethod
    def _info(path: str) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(path, date_time=time.localtime()[:6])
        info.external_attr = 0o644 << 16  # else unzip creates files nobody can read
        return info

    def write(self, path: str, data: bytes) -> None:
        self.zip.writestr(self._info(path), data)

    def finish(self, manifest) -> None:
        info = self._info("manifest.csv")
        info.compress_type = zipfile.ZIP_DEFLATED
        manifest.seek(0)
        with self.zip.open(info, "w", force_zip64=True) as dst:
            shutil.copyfileobj(manifest, dst, 1 << 20)
        self.zip.close()
        self.file.seek(0)

    def close(self) -> None:
        self.file.close()


class _FolderSink:
    def __init__(self, folder: str, *, resumed: bool = False):
        self.folder = folder
        self.storage = storages["exports"]
        self.saved: list[str] = []
        # A resumed run rewrites what the dead run already wrote, so each file exists once.
        self.resumed = resumed

    def write(self, path: str, data: bytes) -> None:
        wanted = f"{self.folder}/{path}"
        if self.resumed and self.storage.exists(wanted):
            self.storage.delete(wanted)
        name = self.storage.save(wanted, ContentFile(data, name=wanted))
        self.saved.append(name)
        if name != wanted:
            raise ExportError(f"{wanted} already exists in export storage (saved as {name}).")

    def discard(self) -> None:
        for name in self.saved:
            try:
                self.storage.delete(name)
            except Exception:
                logger.warning("could not delete partial export file %s", name, exc_info=True)


def _manifest_writer(fh):
    text = io.TextIOWrapper(fh, encoding="utf-8", newline="", write_through=True)
    text.write("\ufeff")  # Excel needs the BOM to read UTF-8
    writer = csv.DictWriter(text, fieldnames=variants.MANIFEST_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    return text, writer


def _progress(job_id: int, token: str, done: int, **counts) -> None:
    if not jobs.job_progress(ExportJob, job_id, token, progress_done=done, **counts):
        raise _Cancelled()


def export_job_run(*, job_id: int, run_token: str,
                   progress: Callable[[int, int], None] | None = None) -> str:
    """Run a claimed export job. Returns 'done', 'failed', 'cancelled' or 'skipped'."""
    job = ExportJob.objects.filter(pk=job_id).first()
    if job is None or job.status != JobStatus.RUNNING or job.run_token != run_token:
        return "skipped"
    with jobs.job_heartbeat(ExportJob, job_id, run_token):
        return _export_execute(job, run_token, progress)


def _export_execute(job: ExportJob, run_token: str,
                    progress: Callable[[int, int], None] | None) -> str:
    job_id = job.pk
    manifest_file = tempfile.TemporaryFile()  # noqa: SIM115 - closed in finally
    sink: _ZipSink | _FolderSink | None = None
    report: dict = {"collisions": [], "excluded": [], "excluded_count": 0}
    try:
        plan = _plan(job.presets, job.filters)
        if plan.collisions:
            report["collisions"] = plan.collisions
            raise ExportError(f"{len(plan.collisions)} naming collision(s); nothing exported.")
        presets = {p.name: p for p in export_selectors.preset_resolve(names=job.presets)}
        total = len(plan.items)
        ExportJob.objects.filter(pk=job.pk).update(progress_total=total)
        if not job.dry_run:
            sink = (_FolderSink(job.folder, resumed=job.attempts > 1)
                    if job.destination == ExportJob.Destination.FOLDER else _ZipSink())
        text, writer = _manifest_writer(manifest_file)
        exported = excluded = done = 0
        exported_cutouts: set[int] = set()
        last = time.monotonic()
        groups = list(_grouped(plan.items))
        for items, outputs in _results(groups, presets, render=not job.dry_run):
            for item, out in zip(items, outputs, strict=True):
                if out is not None and out.fresh:
                    _persist(item.cutout_id, out)
                row, include = _row(job, item, out)
                writer.writerow(row)
                if include and sink is not None:
                    sink.write(item.path, out.data)
                    exported += 1
                    exported_cutouts.add(item.cutout_id)
                elif not job.dry_run:
                    excluded += 1
                    if len(report["excluded"]) < MAX_REPORTED:
                        report["excluded"].append({
                            "sku": item.sku, "preset": item.preset, "file": item.path,
                            "reason": variants.csv_unescape(row["compliance"])})
                if out is not None:
                    out.data = None  # drop the bytes as soon as they are written
                done += 1
            now = time.monotonic()
            if now - last >= PROGRESS_EVERY_SECONDS:
                _progress(job.pk, run_token, done, exported_count=exported,
                          failed_count=excluded)
                last = now
            if progress:
                progress(done, total)
        report["excluded_count"] = excluded
        text.flush()
        text.detach()
        return _finish(job, run_token, manifest_file, sink, report, exported, excluded,
                       exported_cutouts)
    except _Cancelled:
        if isinstance(sink, _FolderSink):
            sink.discard()
        return "cancelled"
    except Exception as exc:
        if isinstance(sink, _FolderSink):
            sink.discard()
        if not isinstance(exc, ExportError | SoftTimeLimitExceeded):
            logger.exception("export %s failed", job_id)
        if isinstance(exc, ExportError):
            message = str(exc)
        elif isinstance(exc, SoftTimeLimitExceeded):
            message = "The export took longer than allowed; export fewer products at a time."
        elif isinstance(exc, OSError) or hasattr(exc, "response"):
            # Disk full, S3 5xx or a timeout while writing: say so, the job ends failed.
            from catalog.services import storage_error_text

            message = "The export could not be written: " + storage_error_text(exc).replace(
                "Not stored: ", "")
        else:
            message = f"Unexpected error: {type(exc).__name__}: {exc}"
        if jobs.job_fail(ExportJob, job.pk, run_token, message, report=report):
            _notify(job, f"Export {job.pk} failed: {message}")
            job.refresh_from_db()
            events.export_finished(job)
        return "failed"
    finally:
        if isinstance(sink, _ZipSink):
            sink.close()
        manifest_file.close()


def _row(job: ExportJob, item: PlannedItem, out: _Output | None) -> tuple[dict, bool]:
    """The manifest row for a planned file and whether the file goes into the export."""
    base = {"sku": item.sku, "gtin": item.gtin or None, "asin": item.asin or None,
            "preset": item.preset, "file": item.path}
    if item.error:
        return variants.manifest_row(**base, compliance=f"not exported: {item.error}"), False
    if out is None or not out.fields:
        if job.dry_run:
            return variants.manifest_row(**base, compliance="dry run: would be rendered"), False
        reason = out.error if out is not None else "cutout no longer available"
        return variants.manifest_row(**base, compliance=f"not exported: {reason}"), False
    f = out.fields
    summary = f["compliance"].get("summary", "ok" if f["compliance_ok"] else "failed")
    include = out.ok or job.include_failing
    if job.dry_run:
        summary = f"dry run (cached): {summary}"
        include = False
    elif not out.ok:
        summary = (f"exported despite: {summary}" if job.include_failing
                   else f"not exported: {summary}")
    row = variants.manifest_row(**base, width=f["width"], height=f["height"],
                                size_bytes=f["bytes"], sha256=f["sha256"], compliance=summary)
    return row, include


def _finish(job, run_token, manifest_file, sink, report, exported, excluded,
            exported_cutouts) -> str:
    exports = storages["exports"]
    manifest_file.seek(0)
    manifest_name = exports.save(f"manifests/export-{job.pk}-manifest.csv",
                                 File(manifest_file, name="manifest.csv"))
    zip_name = ""
    if isinstance(sink, _ZipSink):
        sink.finish(manifest_file)
        zip_name = exports.save(f"zips/cutroom-export-{job.pk}.zip",
                                File(sink.file, name=f"cutroom-export-{job.pk}.zip"))
    elif isinstance(sink, _FolderSink):
        manifest_file.seek(0)
        sink.write("manifest.csv", manifest_file.read())
    if job.dry_run:
        message = f"Dry run: {job.progress_total} file(s) would be exported; nothing written."
    else:
        message = f"{exported} file(s) exported, {excluded} excluded."
    with transaction.atomic():
        finished = jobs.job_finish(
            ExportJob, job.pk, run_token, progress_done=job.progress_total,
            exported_count=exported, failed_count=excluded, manifest_name=manifest_name,
            zip_name=zip_name, report=report, message=message)
        if finished and exported_cutouts:
            ids = sorted(exported_cutouts)
            now = timezone.now()
            asset_ids: set[int] = set()
            for start in range(0, len(ids), 500):
                part = Cutout.objects.filter(pk__in=ids[start:start + 500])
                part.update(exported_at=now)
                asset_ids.update(part.values_list("asset_id", flat=True))
            assets_status_sync(asset_ids=asset_ids)
    if not finished:
        for name in (manifest_name, zip_name):
            if name:
                exports.delete(name)
        if isinstance(sink, _FolderSink):
            sink.discard()
        return "cancelled"
    job.refresh_from_db()
    _notify(job, f"Export {job.pk} finished: {message}")
    events.export_finished(job)
    return "done"


def _notify(job: ExportJob, text: str) -> None:
    if job.created_by_id:
        notification_create(user=job.created_by, text=text,
                            url=reverse("cutouts:export_detail", args=[job.pk]))


def export_job_is_final(*, job_id: int) -> bool:
    status = ExportJob.objects.filter(pk=job_id).values_list("status", flat=True).first()
    return status is None or status in FINAL_STATUSES


def _export_enqueue(ids: list[int]) -> None:
    from ..tasks import export_job_run_task

    for pk in ids:
        export_job_run_task.delay(pk)


jobs.job_kind_register(jobs.JobKind(
    name="export", model=ExportJob, enqueue=_export_enqueue,
    run_limit=lambda job: EXPORT_TIME_LIMIT,
))
