"""Renditions: preset seeding, and rendering a version with a spec (cached), alone or per plan."""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from PIL import Image

from .. import variants
from ..errors import ExportError
from ..imaging.models import REGISTRY
from ..models import Background, Cutout, Preset, Rendition
from ..selectors import export as export_selectors
from ..selectors import scenes as scene_selectors
from ..selectors.export import PlannedItem
from ..variants.compliance import MAIN_POSITION, stored_frame_cut
from ..variants.spec import ABSENT

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
        "checks": variants.CHECKS_VERSION,
    }


@dataclass(frozen=True)
class _Source:
    cutout_id: int
    rgba_name: str
    shadow_name: str
    model_name: str
    #: the image's catalog position (MAIN, PT01..PT08, SWCH; "" unknown): compliance holds
    #: only the main image to Amazon's whole-product rule
    position: str = ""
    #: the original photo (storage name, content digest): ``keepmeta`` carries its EXIF/XMP
    original_name: str = ""
    original_sha256: str = ""
    #: the cutout's size and the renderer's measures of its product
    #: (``export_selectors.ProductBox``), None without a size: what a dry run lays out a file
    #: it does not render from, read with the rest of the source
    box: export_selectors.ProductBox | None = None
    #: what its stored signals say a check of the file will find without reading it: the
    #: sides the photo's frame cuts the product on (``compliance.stored_frame_cut``) and its
    #: ``faint_marks``; a dry run foresees refusals and warnings from them (``foreseen``)
    frame_cut: tuple[str, ...] = ()
    faint_marks: dict | None = field(default=None, hash=False)
    #: far detached parts a trimming render leaves out, with a warning (``dropped_parts``)
    dropped_parts: int | None = None
    #: per render kind, how far the contact shadow it draws lies from the product's body
    #: (``export_shadow_off``): a file exported despite the pre-check's *shadow off the
    #: product* carries it as a warning (``compliance.shadow_off_warning``)
    shadow_off: dict | None = field(default=None, hash=False)
    #: how far the shadow layer the version stored lies from the product's body, which a
    #: ``shadow-keep`` render ships (``compliance.kept_shadow_off``: its ``shadow_off_body``
    #: when it has a layer; None otherwise)
    kept_shadow_off: float | None = None


def _is_main(position: str | None) -> bool:
    return position in (None, "", MAIN_POSITION)


def _position_changes_check(rules: variants.Rules, seen: dict, position: str) -> bool:
    """Whether a stored result judged the image at another kind of position than it is at
    now, in a way its rules tell apart: a whole-product preset fails a product the photo's
    frame cuts on the main image only. Results made before positions were recorded were
    judged as main images."""
    return (rules.whole_product and bool(seen.get("frame_cut"))
            and _is_main(seen.get("position")) != _is_main(position))


#: the mark a ``keepmeta`` rendition's compliance carries once it was rendered with the
#: original's metadata (earlier ones were rendered without any: render them again)
META_KEPT = "meta"


def _keeps_meta(spec: variants.VariantSpec) -> bool:
    return "keepmeta" in spec


def _read_meta(storage, name: str) -> dict:
    """The original photo's EXIF and XMP, read from its headers: ``Image.open`` parses them
    without decoding a pixel (JPEG, WebP, TIFF; a PNG whose eXIf chunk follows the image
    data is the exception, decoded to reach it). The renderer drops the GPS location."""
    if not name:
        return {}
    with storage.open(name, "rb") as fh, Image.open(fh) as image:
        exif = image.getexif()
        xmp = image.info.get("xmp") or image.info.get("XML:com.adobe.xmp")
        return {"exif": exif.tobytes() if len(exif) else b"", "xmp": xmp or b""}


def _meta_key(cache_key: str, source: _Source) -> str:
    """The cache key of a ``keepmeta`` rendition: the original's digest joins the cutout's,
    since two uploads of one photo with other metadata make the same cutout bytes."""
    payload = f"{cache_key}\nmeta={source.original_sha256 or ABSENT}"
    return hashlib.sha256(payload.encode()).hexdigest()


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
class RenditionOutput:
    """One preset's result for one cutout: its bytes or why not, and its Rendition columns."""

    target: _Target
    data: bytes | None = None
    error: str = ""
    fields: dict = field(default_factory=dict)  # Rendition columns
    fresh: bool = False  # the Rendition row must be written
    #: a dry run's stored verdict it did not judge again (past DRY_RUN_RECHECK_MAX): why
    #: it is stale; the real run re-checks it
    provisional: str = ""

    @property
    def ok(self) -> bool:
        return bool(self.fields.get("compliance_ok"))


_RENDITION_FIELDS = ("cache_key", "file_name", "format", "width", "height", "bytes", "sha256",
                     "fill_pct", "compliance_ok", "compliance")


def _read(storage, name: str) -> bytes:
    with storage.open(name, "rb") as fh:
        return fh.read()


def _decode(data: bytes) -> Image.Image:
    """A cutout file's pixels (RGBA); called once per cutout of an export."""
    image = Image.open(io.BytesIO(data))
    image.load()
    return image if image.mode == "RGBA" else image.convert("RGBA")


def _rendition_name(cache_key: str, ext: str) -> str:
    return f"renditions/{cache_key[:2]}/{cache_key}.{ext}"


def _rules_changed(target: _Target, cached: dict) -> bool:
    """Whether a cached rendition was checked with other rules than its preset has now."""
    return (cached.get("compliance") or {}).get("rules") != _rules_fingerprint(target.rules)


def _recheck_needed(target: _Target, cached: dict, position: str) -> bool:
    """Whether a cached rendition's stored verdict no longer holds: the preset's rules
    changed since it was checked, or the image moved to or from the main position."""
    made = cached.get("compliance") or {}
    return (_rules_changed(target, cached)
            or _position_changes_check(target.rules, made.get("measurements") or {}, position))


def _recheck(out: RenditionOutput, source: _Source,
             licence: variants.ModelLicence | None) -> None:
    """Judge ``out``'s cached rendition again with its target's rules at the image's
    position now. With the rules unchanged only the position moved, and the one check it
    changes is judged from the stored measurements (``rejudge_position``), no file read;
    otherwise the cached bytes (``out.data``) are checked again from the renderer's facts
    the first check recorded."""
    target = out.target
    made = out.fields.get("compliance") or {}
    seen = made.get("measurements") or {}
    bbox = made.get("product_bbox")
    if not _rules_changed(target, out.fields):
        result = variants.rejudge_position(
            errors=made.get("errors") or [], warnings=made.get("warnings") or [],
            measurements=seen, rules=target.rules, position=source.position or None)
    else:
        size = seen.get("source_product_size")
        assert out.data is not None
        result = variants.check_variant(
            out.data, target.rules, product_bbox=tuple(bbox) if bbox else None,
            fill_pct=out.fields.get("fill_pct"), model_licence=licence,
            enlargement=seen.get("enlargement"),
            source_product_size=tuple(size) if size else None,
            scene=bool(seen.get("scene")), frame_cut=seen.get("frame_cut"),
            faint_marks=seen.get("faint_marks"), position=source.position or None)
    out.fields.update(compliance_ok=result.ok, compliance={
        **made, **_compliance_dict(result, _rules_fingerprint(target.rules), bbox)})


def _produce(source: _Source, targets: list[_Target],
             on_done: Callable[[str], None] | None = None) -> list[RenditionOutput]:
    """Pure work for one cutout (storage I/O, rendering, checks; no database): safe to run
    in a worker thread. Each target's bytes come from the rendition cache when present.
    ``on_done(preset name)`` hears of each target as it is finished (rendered, read from the
    cache or refused), in this thread: an export's bar counts renders, not cutouts."""
    storage = storages["default"]
    licence = _model_licence(source.model_name)
    loaded: dict = {}

    def load():
        if not loaded:
            rgba_bytes = _read(storage, source.rgba_name)
            shadow_bytes = _read(storage, source.shadow_name) if source.shadow_name else b""
            # digested on demand: a spec without shadow-keep never hashes the shadow layer
            loaded["inputs"] = variants.RenderInputs(cutout=rgba_bytes, shadow=shadow_bytes)
            # one decode, one significant-alpha scan and one premultiplied product per
            # cutout, however many presets render from it
            loaded["rgba"] = variants.SourceImage(_decode(rgba_bytes))
            loaded["shadow_bytes"] = shadow_bytes
        return loaded

    def meta() -> dict:
        if "meta" not in loaded:
            try:
                loaded["meta"] = _read_meta(storage, source.original_name)
            except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
                # an unreadable or purged original costs its metadata, not the variant
                loaded["meta"] = {}
        return loaded["meta"]

    outputs = [RenditionOutput(target) for target in targets]
    # specs of one size class one after another: they share one resampled layer, which is
    # dropped once the next class starts
    classes = {id(o): variants.size_class(o.target.preset.variant_spec) for o in outputs}
    previous = None
    for out in _each_told(sorted(outputs, key=lambda o: classes[id(o)]), on_done):
        target = out.target
        if loaded and classes[id(out)] != previous:
            loaded["rgba"].forget_layers()
        previous = classes[id(out)]
        fingerprint = _rules_fingerprint(target.rules)
        cached = target.cached
        if cached:
            try:
                out.data = _read(storage, cached["file_name"])
                out.fields = {k: cached[k] for k in _RENDITION_FIELDS}
                if _recheck_needed(target, cached, source.position):
                    # The preset's rules changed since this file was checked, or the image
                    # moved to or from the main position: check again.
                    _recheck(out, source, licence)
                    out.fresh = True
                continue
            except FileNotFoundError:
                out.data = None  # purged from storage: render it again below
        try:
            src = load()
            spec = target.preset.variant_spec  # parsed once, at validation
            shadow = None
            if variants.SHADOW_INPUT in spec.cache_inputs and src["shadow_bytes"]:
                if "shadow" not in src:  # decoded once, for every spec that keeps it
                    src["shadow"] = Image.open(io.BytesIO(src["shadow_bytes"]))
                    src["shadow"].load()
                shadow = src["shadow"]
            assets = (scene_selectors.scene_assets(items=target.library)
                      if target.library else None)
            rendered = variants.render_variant(
                src["rgba"], spec, shadow=shadow, assets=assets,
                source_meta=meta() if _keeps_meta(spec) else None)
            result = variants.check_rendered(rendered, target.rules, model_licence=licence,
                                             position=source.position or None)
            for error in variants.check_spec(spec, target.rules):
                result.error(error)
            for warning in rendered.warnings:
                result.warn(warning)
        except FileNotFoundError as exc:
            out.error = f"cutout file missing from storage: {exc}"
            continue
        except variants.VariantError as exc:
            out.error = render_refusal(exc)
            continue
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
            # A corrupt cutout file spoils its own variants, not the whole export.
            out.error = f"cannot read the cutout file: {type(exc).__name__}: {exc}"
            continue
        # the key hashes only what the spec reads: an edited library background (content,
        # floor, light) changes it, the shadow layer only with shadow-keep
        library = {i.slug: f"{i.sha256}:{i.floor_pct}:{i.light_deg}" for i in target.library}
        cache_key = variants.rendition_key(spec, src["inputs"].with_library(library))
        if _keeps_meta(spec):
            cache_key = _meta_key(cache_key, source)
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
                           "assets": target.assets_key,
                           "renderer": variants.RENDERER_VERSION,
                           **({META_KEPT: source.original_sha256 or ABSENT}
                              if _keeps_meta(spec) else {})},
        }
    return outputs


def render_refusal(exc: variants.VariantError) -> str:
    """Why a file was not rendered (a layout over the output limit, margins leaving no room),
    in the words of the export and of a dry run that foresees it from the layout
    (``export_jobs._foresee``): one refusal, one line in their Presets tables."""
    return f"cannot render: {exc}"


def _each_told(outputs: list[RenditionOutput], on_done: Callable[[str], None] | None
               ) -> Iterator[RenditionOutput]:
    """``outputs`` one by one, telling ``on_done`` of each once the loop moves past it (its
    ``continue`` included), never of one whose work raised."""
    for out in outputs:
        yield out
        if on_done is not None:
            on_done(out.target.preset.name)


def renditions_persist(outputs: Iterable[tuple[int, RenditionOutput | None]]
                       ) -> list[Rendition]:
    """Write the Rendition rows of freshly rendered (or re-checked) outputs, inserted or
    updated on (cutout version, spec), in one statement: an export writes one cutout's
    presets at a time, and a row per variant cost more than its ZIP entry. Returns the
    written objects; their ``pk`` is set where the backend returns rows from the upsert
    (PostgreSQL, SQLite >= 3.35), else None. Their ``created_at`` is this call's, which is
    not the row's when it already existed (the upsert keeps the first one)."""
    rows: dict[tuple[int, str], Rendition] = {}
    for cutout_id, out in outputs:
        if out is not None and out.fresh and out.fields:
            # keyed: one output serving two planned files is one row, written once
            rows[(cutout_id, out.target.spec)] = Rendition(
                cutout_id=cutout_id, spec=out.target.spec, **out.fields)
    if not rows:
        return []
    return Rendition.objects.bulk_create(
        list(rows.values()), update_conflicts=True, unique_fields=["cutout", "spec"],
        update_fields=list(_RENDITION_FIELDS))


def _targets(cutout_ids: list[int], presets: list[variants.Preset]) -> dict[int, list[_Target]]:
    parsed = {p.name: p.variant_spec for p in presets}
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
        if row is None:
            return None
        made = row.get("compliance") or {}
        if made.get("assets", "") != keys[name]:
            return None  # rendered with an older version of a library background or logo
        if made.get("renderer") != variants.RENDERER_VERSION:
            return None  # an older renderer's bytes and compliance: render again
        if made.get("checks", "1") != variants.CHECKS_VERSION:
            # checked before a check was added (a blown-up speck passed): render and check
            # again; the file's bytes are the same, under the same key
            return None
        if _keeps_meta(parsed[name]) and not made.get(META_KEPT):
            return None  # rendered before keepmeta read the original: it kept nothing
        return row

    return {
        cid: [_Target(p, specs[p.name], p.rules, fresh(cid, p.name), keys[p.name],
                      library[p.name])
              for p in presets]
        for cid in cutout_ids
    }


#: the columns :func:`_source` reads (the asset's through one join)
_SOURCE_FIELDS = ("pk", "rgba_name", "shadow_name", "model_name", "width", "height",
                  "signals", "asset__position", "asset__original_name", "asset__sha256")


def _source(cutout: Cutout) -> _Source:
    asset = cutout.asset
    signals = cutout.signals if isinstance(cutout.signals, dict) else {}
    marks = signals.get("faint_marks")
    return _Source(cutout.pk, cutout.rgba_name, cutout.shadow_name, cutout.model_name,
                   asset.position or "", asset.original_name or "", asset.sha256 or "",
                   export_selectors.product_box(cutout.width, cutout.height, signals),
                   tuple(stored_frame_cut(signals)),
                   marks if isinstance(marks, dict) else None,
                   dropped if isinstance(dropped := signals.get("dropped_parts"), int)
                   else None,
                   off if isinstance(off := signals.get("export_shadow_off"), dict) else None,
                   variants.kept_shadow_off(signals.get("shadow_off_body"),
                                            bool(cutout.shadow_name)))


def rendition_get_or_create(
    *, cutout: Cutout, preset: Preset | variants.Preset | str | None = None,
    spec: str | None = None,
) -> Rendition:
    """The rendition of this cutout version with a preset's spec (or a bare spec, checked
    only for decodability, licence and a product too small in the cutout to make an image
    of), rendered on first use and cached in storage.

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
    written = renditions_persist([(cutout.pk, out)])
    if written and written[0].pk is not None:
        # The upsert returned the row's id (inserted or updated; every column but
        # created_at is what it wrote): no second query. created_at is left deferred, so
        # it is read from the row only if asked for: the upsert keeps an existing row's.
        row = written[0]
        names = [f.attname for f in Rendition._meta.concrete_fields
                 if f.attname != "created_at"]
        return Rendition.from_db(Rendition.objects.db, names,
                                 [getattr(row, name) for name in names])
    # a cached rendition (nothing written), or a backend that returns no rows from an upsert
    return Rendition.objects.get(cutout=cutout, spec=target.spec)


def _threads() -> int:
    configured = getattr(settings, "CUTROOM_EXPORT_THREADS", 0)
    return max(1, configured or min(2, os.cpu_count() or 1))


def plan_grouped(items: list[PlannedItem]) -> Iterator[tuple[int, list[PlannedItem]]]:
    """Consecutive planned items of one cutout, with its id: a cutout is loaded once."""
    current: list[PlannedItem] = []
    for item in items:
        if current and current[0].cutout_id != item.cutout_id:
            yield current[0].cutout_id, current
            current = []
        current.append(item)
    if current:
        yield current[0].cutout_id, current


#: how many stale cached verdicts (the preset's rules edited since the check) one dry run
#: judges again by reading and checking the stored file; the rest keep their stored verdict,
#: marked provisional ("re-checked on export"). Without a bound a rules edit made a dry run
#: fetch and check every cached file of the export (on S3 a request each). A count, not a
#: time: the same dry run says the same whatever the storage's speed that minute (a 2 s
#: budget re-checked all 50 of a test export on local disk, and 23 or 24 of them, run to run,
#: with reads of 80 ms). 25 keeps a dry run on S3 (about 85 ms per read and check) near 2 s;
#: the first 25 in plan order are re-checked.
DRY_RUN_RECHECK_MAX = 25


class _RecheckBudget:
    """How many more stale verdicts a dry run may read and check (DRY_RUN_RECHECK_MAX)."""

    def __init__(self) -> None:
        self.left = DRY_RUN_RECHECK_MAX

    def take(self) -> bool:
        if self.left <= 0:
            return False
        self.left -= 1
        return True


#: how often a caller waiting for a cutout's renders is called back (``on_wait``)
WAIT_TICK_SECONDS = 0.25


def plan_renditions(
    groups: list[tuple[int, list[PlannedItem]]], presets: dict[str, variants.Preset],
    render: bool, *, on_render: Callable[[int, str], None] | None = None,
    on_wait: Callable[[], None] | None = None,
) -> Iterator[tuple[list[PlannedItem], list[RenditionOutput | None], _Source | None]]:
    """Outputs per cutout, in plan order, with the cutout's source (None when the cutout is
    gone): a dry run lays out from its product box what it does not render. Rendering runs
    in a small thread pool over a bounded window of cutouts, so memory does not grow with
    the export's size.

    ``on_render(group index, preset name)`` is called from a render thread as each of a
    cutout's presets is finished (no database there; what it raises ends that cutout's work,
    as an export's cancel does: the pool is waited for on the way out); ``on_wait()`` from
    the caller's thread every ``WAIT_TICK_SECONDS`` while it waits for a cutout's renders,
    so it can write what the render threads finished meanwhile (a cutout with many presets
    on a big image takes a while)."""
    threads = _threads() if render else 1
    window = threads * 2
    pending: deque = deque()
    budget = _RecheckBudget()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for start in range(0, len(groups), 50):
            chunk = groups[start:start + 50]
            ids = [cid for cid, _ in chunk]
            cutouts = {c.pk: c for c in Cutout.objects.filter(pk__in=ids)
                       .select_related("asset").only(*_SOURCE_FIELDS)}
            targets = _targets(ids, [presets[n] for n in dict.fromkeys(
                i.preset for _, items in chunk for i in items)])
            for offset, (cid, items) in enumerate(chunk):
                told = (functools.partial(on_render, start + offset)
                        if on_render is not None else None)
                pending.append(_submit(pool if render else None, cutouts.get(cid), items,
                                       targets[cid], told))
                if len(pending) >= window:
                    yield _collect(*pending.popleft(), budget=budget, on_wait=on_wait)
        while pending:
            yield _collect(*pending.popleft(), budget=budget, on_wait=on_wait)


def _submit(pool, cutout: Cutout | None, items: list[PlannedItem], targets: list[_Target],
            on_done: Callable[[str], None] | None = None):
    source = _source(cutout) if cutout is not None else None
    wanted = [t for t in targets
              if any(i.preset == t.preset.name and not i.error for i in items)]
    if source is None or not wanted:
        return items, None, [], source
    if pool is None:
        return items, None, wanted, source
    return items, pool.submit(_produce, source, wanted, on_done), [], source


def _result(future: Future, on_wait: Callable[[], None] | None) -> list[RenditionOutput]:
    while on_wait is not None:
        try:
            return future.result(timeout=WAIT_TICK_SECONDS)
        except FutureTimeout:
            on_wait()
    return future.result()


def _collect(items, future, cached_targets, source: _Source | None = None, *,
             budget: _RecheckBudget | None = None, on_wait: Callable[[], None] | None = None
             ) -> tuple[list[PlannedItem], list[RenditionOutput | None], _Source | None]:
    if future is not None:
        by_preset = {o.target.preset.name: o for o in _result(future, on_wait)}
    else:
        # Dry run: report what the rendition cache already knows, render nothing.
        by_preset = {}
        for t in cached_targets:
            if t.cached:
                out = _cached_verdict(t, source, budget=budget)
                if out is not None:
                    by_preset[t.preset.name] = out
    return items, [by_preset.get(i.preset) for i in items], source


#: why a provisional dry-run verdict is stale (RenditionOutput.provisional)
RULES_CHANGED = "checked with the preset's earlier rules"


def _cached_verdict(target: _Target, source: _Source | None, *,
                    budget: _RecheckBudget | None = None) -> RenditionOutput | None:
    """A dry run's output for a cached rendition: its stored verdict, judged again as the
    real run would when it no longer holds (the image moved off MAIN, where a cut-off
    product fails Amazon's whole-product rule: the stored "excluded" was stale). A move
    is judged from the stored measurements; edited rules need the stored file, read and
    checked while the dry run's ``budget`` lasts, after which the stored verdict is kept
    and marked ``provisional``. Nothing is written; None when
    the file was purged (the real run renders it again)."""
    assert target.cached is not None
    out = RenditionOutput(target, fields=dict(target.cached))
    if source is None or not _recheck_needed(target, target.cached, source.position):
        return out
    licence = _model_licence(source.model_name)
    if not _rules_changed(target, target.cached):
        _recheck(out, source, licence)
        return out
    if budget is not None and not budget.take():
        out.provisional = RULES_CHANGED
        return out
    try:
        out.data = _read(storages["default"], target.cached["file_name"])
    except FileNotFoundError:
        return None
    _recheck(out, source, licence)
    out.data = None
    return out


def scene_layout_assets(*, presets: Iterable[variants.Preset]
                        ) -> dict[str, dict[str, variants.SceneAsset]]:
    """Per scene preset, the library backgrounds a dry run lays its scenes out with
    (``variants.scene_scale``): each one's floor line and size, the size read from the
    image's header, no pixel decoded; once per export. A preset whose background cannot be
    read is left out: its scenes are not foreseen (the real run says why)."""
    storage = storages["default"]
    opened: dict[str, variants.SceneAsset | None] = {}
    out: dict[str, dict[str, variants.SceneAsset]] = {}
    for preset in presets:
        spec = preset.variant_spec
        if not spec.is_scene:
            continue
        assets: dict[str, variants.SceneAsset] = {}
        for item in scene_selectors.scene_library(slugs=spec.library_slugs()):
            if item.kind != Background.Kind.BACKGROUND:
                continue  # a logo moves no product
            if item.slug not in opened:
                try:
                    with storage.open(item.image_name, "rb") as fh:
                        image = Image.open(fh)
                        image.close()  # keeps its size: only the header was read
                    opened[item.slug] = variants.SceneAsset(
                        image, floor_pct=item.floor_pct, light_deg=item.light_deg,
                        sha256=item.sha256)
                except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
                    opened[item.slug] = None
            found = opened[item.slug]
            if found is None:
                break
            assets[item.slug] = found
        else:
            out[preset.name] = assets
    return out


#: longest side of a contact-sheet thumbnail
THUMBNAIL_SIDE = 320


def _thumbnail_name(sha256: str) -> str:
    return f"renditions/thumbs/{sha256[:2]}/{sha256}-{THUMBNAIL_SIDE}.webp"


def rendition_thumbnail(*, sha256: str) -> str | None:
    """Storage name of a small WebP of the rendition whose bytes hash to ``sha256``; made on
    first request, then served as is. Named by that hash, so it is never stale and never made
    twice. WebP keeps alpha: a transparent variant shows the page's checkerboard, so a ghost
    or halo stays visible. None when no rendition has these bytes."""
    storage = storages["default"]
    name = _thumbnail_name(sha256)
    if storage.exists(name):
        return name
    rendition = Rendition.objects.filter(sha256=sha256).only("file_name").first()
    if rendition is None:
        return None
    try:
        with storage.open(rendition.file_name, "rb") as fh:
            image: Image.Image = Image.open(fh)
            image.draft("RGB", (THUMBNAIL_SIDE, THUMBNAIL_SIDE))  # JPEG: decode at 1/2..1/8
            # thumbnail() leaves an image already within the side undecoded, and save() below
            # runs after the file is closed: decode while it is still open.
            image.load()
            image.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.Resampling.LANCZOS)
            if image.mode not in ("RGB", "RGBA"):
                image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    except FileNotFoundError:
        return None  # purged; the next export renders it again
    out = io.BytesIO()
    image.save(out, "WEBP", quality=80, method=4)
    saved = storage.save(name, ContentFile(out.getvalue(), name=name))
    if saved != name:
        # Another request made it meanwhile: keep the one under the content-addressed name.
        storage.delete(saved)
    return name
