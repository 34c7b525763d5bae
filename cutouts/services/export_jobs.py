"""Export jobs: validate and queue, claim and run into a sink, finish or fail."""

from __future__ import annotations

import dataclasses
import logging
import re
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from datetime import date
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.files import File
from django.core.files.storage import storages
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from catalog import events, jobs
from catalog.models import ImageAsset

from .. import enqueue as enqueue_tasks
from .. import variants
from ..errors import ExportCollisionError, ExportError, ExportFinishedError, PresetError
from ..models import FINAL_STATUSES, Cutout, ExportJob, JobStatus, RefusedVariant
from ..selectors import export as export_selectors
from ..variants.compliance import check_source, foreseen, product_layout
from ..variants.render import warn_enlarged
from .export_sinks import (
    FolderSink,
    ZipSink,
    manifest_row_for,
    manifest_row_not_approved,
    manifest_writer,
)
from .notifications import notification_create
from .renditions import (
    plan_grouped,
    plan_renditions,
    render_refusal,
    renditions_persist,
    scene_layout_assets,
)
from .status import assets_status_sync

if TYPE_CHECKING:
    from .renditions import _Source

# A run streams entry by entry into its sink, so memory stays flat however many variants it holds.

logger = logging.getLogger(__name__)

#: hard limit of one export run (the task's time limit); a run whose worker died is found by
#: its stale heartbeat and resumed by the reconciler (catalog.jobs), long before this
EXPORT_TIME_LIMIT = settings.CUTROOM_EXPORT_TIME_LIMIT
#: what a job that hit the task's soft time limit says (the task catches the limit)
EXPORT_TIMEOUT_MESSAGE = "The export took longer than allowed; export fewer products at a time."
MAX_REPORTED = 1000  # excluded/failed rows kept on the job row; the manifest has them all
#: least seconds between two progress writes that carry no checkpoint (``_ProgressWrites``):
#: the export page polls the row once a second, so a second write between two polls is never
#: seen
PROGRESS_EVERY_SECONDS = 1.0
#: spec strings one export may carry (each is a preset of its own: a folder, a render each)
MAX_SPECS = 20
_FOLDER_RE = re.compile(r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$")


class _Cancelled(Exception):
    pass


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


def _plan(presets: list[str], filters: dict, *, include_failing: bool = False
          ) -> tuple[export_selectors.ExportPlan, list[variants.Preset]]:
    """The plan and the resolved presets, whose parsed specs the rendering reuses. A refusal
    names its field: "specs" for a spec string (every bad one at once), else "presets".
    ``plan.collisions`` are those between files the export would write: a clashing file its
    preset refuses (too small for Walmart, judged as a dry run judges it: ``_refused_anyway``)
    is never written, so it collides with nothing (QA 2026-12-06: two PT01 images sharing a
    GTIN, both refused by Walmart, stopped the whole export)."""
    resolved = _presets_resolve(presets)
    plan = export_selectors.export_plan(
        cutouts=export_selectors.export_candidates(**filters), presets=resolved)
    if plan.collisions:  # the rare case: only then is anything read beyond the names
        named = plan.named
        clashing = [named[i] for c in variants.find_collisions([i.path for i in named])
                    for i in c.indices]
        refused = _refused_anyway(clashing, resolved, include_failing=include_failing)
        plan.collisions = export_selectors.plan_collisions(
            [i for i in named if id(i) not in refused])
    return plan, resolved


def _refused_anyway(items: list[export_selectors.PlannedItem], presets: list[variants.Preset], *,
                    include_failing: bool) -> set[int]:
    """The ``id()`` of each of ``items`` its preset is known to refuse before anything is
    rendered, so that the export would not write it: the cached rendition's verdict, else
    what the cutout's stored measures foresee (``_foresee``), the judgement a dry run gives
    (``_would_write``). The real run renders and checks each file; one foreseen refused that
    passes after all is left out rather than written over another (``_export_execute``)."""
    by_name = {p.name: p for p in presets}
    groups = list(plan_grouped(sorted({id(i): i for i in items}.values(),
                                      key=lambda i: i.cutout_id)))
    scenes = scene_layout_assets(presets=[by_name[n] for n in {i.preset for i in items}])
    refused: set[int] = set()
    for group, outputs, source in plan_renditions(groups, by_name, render=False):
        for item, out in zip(group, outputs, strict=True):
            seen = (_foresee(by_name[item.preset], source, scenes)[0]
                    if out is None else None)
            if not _would_write(item, out, seen, include_failing=include_failing):
                refused.add(id(item))
    return refused


def _presets_resolve(presets: list[str]) -> list[variants.Preset]:
    spec_names: set[str] = set()
    bad_specs: list[str] = []
    for name in presets:
        if name.startswith(export_selectors.SPEC_PREFIX):
            try:
                spec_names.add(export_selectors.spec_preset(
                    name[len(export_selectors.SPEC_PREFIX):]).name)
            except PresetError as exc:
                bad_specs.append(str(exc))
    if bad_specs:
        raise ExportError("; ".join(bad_specs), field="specs")
    try:
        resolved = export_selectors.preset_resolve(names=presets)
    except PresetError as exc:
        raise ExportError(str(exc), field="presets")
    # refused when the export is asked for, not excluded variant by variant when it runs
    for field, part in (("specs", [p for p in resolved if p.name in spec_names]),
                        ("presets", [p for p in resolved if p.name not in spec_names])):
        missing = export_selectors.library_missing(presets=part)
        if missing:
            raise ExportError("Unknown library item(s): " + "; ".join(missing) + ".",
                              field=field)
    return resolved


def export_specs_check(*, specs: Iterable[str]) -> None:
    """Refuse (ExportError on ``specs``) custom spec strings the export would refuse, every
    bad one at once: the form says so beside the other fields' errors, not after them."""
    specs = list(specs)
    if not specs:
        return
    if len(specs) > MAX_SPECS:
        raise ExportError(f"At most {MAX_SPECS} spec strings per export, not {len(specs)}.",
                          field="specs")
    _presets_resolve([export_selectors.SPEC_PREFIX + _spec_key(s.replace("\x00", "")[:400])
                      for s in specs])


#: the refusal of an export with nothing to render (the form says it too, before the service)
NOTHING_TO_RENDER = ("Pick at least one preset or write a custom spec: without one there is "
                     "nothing to render.")
FOLDER_HELP = "name a folder inside export storage, e.g. spring/amazon"


def export_folder_clean(*, folder: str, destination: str) -> str:
    """The export folder as stored: a relative path inside export storage, or "" for the
    destination's default. One validation for the form, the API and the service; a refusal
    is an ExportError on ``folder``. An absolute path or '..' is refused (it used to lose its
    leading '/' and land somewhere the user did not type), and so is a folder typed for a
    ZIP download, which would otherwise be dropped without a word."""
    folder = folder.strip()
    if folder and destination != ExportJob.Destination.FOLDER:
        raise ExportError(f"A folder ({folder!r}) is only used when the destination is "
                          "'folder'; a download is one ZIP. Choose the destination 'folder' "
                          "or clear the folder.", field="folder")
    if re.match(r"^[A-Za-z]:", folder):
        # "C:stuff" used to be told "(no leading '/')", which it has none of
        raise ExportError(f"{folder!r} is an absolute path: it starts with a drive letter; "
                          f"{FOLDER_HELP} (no drive letter such as 'C:', no leading '/').",
                          field="folder")
    if folder.startswith(("/", "\\")):
        raise ExportError(f"{folder!r} is an absolute path; {FOLDER_HELP} (no leading '/').",
                          field="folder")
    folder = folder.rstrip("/")
    if not folder:
        return ""
    if any(p in (".", "..") for p in folder.split("/")):
        raise ExportError(f"A folder cannot step up or stay put with '..' or '.': {FOLDER_HELP}.",
                          field="folder")
    if not _FOLDER_RE.match(folder):
        raise ExportError("A folder name may use letters, digits, '.', '_', '-' and '/'.",
                          field="folder")
    # the rule every file and folder name inside it follows (CON -> CON_, no trailing dot):
    # the folder is unpacked or mounted on Windows with them
    safe = variants.windows_safe_path(folder)
    if any(not part for part in safe.split("/")):
        raise ExportError(f"A folder name cannot be only dots ({folder!r}): Windows drops "
                          f"trailing dots; {FOLDER_HELP}.", field="folder")
    return safe


def export_folder_note(*, asked: str, used: str) -> str:
    """What the form and the API say when the folder used is not the one typed, each change
    named (``export_folder_clean``: spaces around it dropped, as around a SKU; a trailing '/'
    dropped; a Windows device name's '_', a trailing dot gone); "" when it is, or when none
    was typed (the default folder is the export's page to show). QA 2026-12-06: " lead"
    became "lead" without a word."""
    if not used or not asked.strip() or asked == used:
        return ""
    why = []
    if asked != asked.strip():
        why.append("the spaces around it were removed")
    if asked.strip() != asked.strip().rstrip("/"):
        why.append("the trailing '/' was removed")
    if asked.strip().rstrip("/") != used:
        why.append("Windows cannot create a file or folder named like a device (CON, PRN, "
                   "AUX, NUL, COM0-9, LPT0-9) or ending in a dot")
    return f"Folder {asked!r} is written as {used!r}: {'; '.join(why)}."


#: which filter an empty selection is named after (the API's 422, the form's field): the
#: narrowest one given; with none at all, the SKU list, where a selection is typed
_SELECTION_FIELDS = (("product_ids", "skus"), ("brand", "brand"),
                     ("approved_since", "approved_since"))


def _empty_selection_field(filters: dict) -> str:
    return next((field for key, field in _SELECTION_FIELDS if filters.get(key)), "skus")


def _spec_key(text: str) -> str:
    """A spec as stored and compared: its canonical form, so one spec written twice with other
    spaces, case or token order is one spec (it used to read as a file-name collision); a
    spec that does not parse stays as typed, for the plan to name its bad tokens."""
    try:
        return variants.parse_spec(text).canonical()
    except variants.SpecError:
        return text


def _folder_lock() -> None:
    """Serialise the creation of folder exports until the transaction ends, so two requests
    for one folder cannot both find it free (the second used to fail late, after rendering
    everything, and leave empty folders in the first one's). SQLite's IMMEDIATE transactions
    already hold the database's write lock from the start; PostgreSQL takes an advisory
    lock (creations are rare and quick: one lock for all folders is enough)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [FOLDER_LOCK_KEY])


#: the advisory lock key of folder export creation ("cutrexpf" read as an integer)
FOLDER_LOCK_KEY = 0x6375747265787066


@transaction.atomic  # the row, its folder name and the run message (on commit) or none
def export_job_create(
    *, user=None, presets: Iterable[str] = (), specs: Iterable[str] = (),
    product_ids: Iterable[int] | None = None,
    brand: str = "", approved_since: date | str | None = None, dry_run: bool = False,
    include_failing: bool = False, destination: str = ExportJob.Destination.DOWNLOAD,
    folder: str = "", enqueue: bool = True, origin: str = "",
) -> ExportJob:
    """Validate and queue an export. Naming collisions are refused here, before any work.

    No product, brand or date means every approved cutout. ``specs`` are spec strings
    (``square-1200|bg-ffffff|format-jpeg``), each exported as an ad-hoc preset of its own
    (``spec-<hash>/``); the API and the export form both pass them here. ``origin``
    (``export_selectors.ORIGIN_FORM`` from the export form) is kept in ``report["origin"]``:
    the form pre-fills only from exports made in it.
    """
    if destination == ExportJob.Destination.FOLDER:
        _folder_lock()  # before the folder is checked: see _folder_lock
    presets, filters, folder, plan = _checked(
        presets=presets, specs=specs, product_ids=product_ids, brand=brand,
        approved_since=approved_since, destination=destination, folder=folder,
        include_failing=include_failing)
    job = ExportJob.objects.create(
        created_by=user if user is not None and user.is_authenticated else None,
        presets=presets, filters=filters, dry_run=dry_run, include_failing=include_failing,
        destination=destination, folder=folder, progress_total=len(plan.items),
        report={"origin": origin} if origin else {},
    )
    if destination == ExportJob.Destination.FOLDER and not folder:
        ExportJob.objects.filter(pk=job.pk).update(
            folder=f"export-{job.pk}-{timezone.now():%Y%m%d-%H%M%S}")
        job.refresh_from_db()
    if enqueue:
        enqueue_tasks.export_job(job.pk)
    return job


def export_job_check(
    *, presets: Iterable[str] = (), specs: Iterable[str] = (),
    product_ids: Iterable[int] | None = None, brand: str = "",
    approved_since: date | str | None = None,
    destination: str = ExportJob.Destination.DOWNLOAD, folder: str = "",
    include_failing: bool = False,
) -> None:
    """Raise what ``export_job_create`` would refuse with these inputs, creating nothing:
    the form checks first, so it never offers to "start anyway" an export that cannot
    start."""
    _checked(presets=presets, specs=specs, product_ids=product_ids, brand=brand,
             approved_since=approved_since, destination=destination, folder=folder,
             include_failing=include_failing)


def _checked(*, presets, specs, product_ids, brand, approved_since, destination, folder,
             include_failing: bool = False
             ) -> tuple[list[str], dict, str, export_selectors.ExportPlan]:
    specs = list(specs)
    presets = list(presets)
    if not any(p.strip() for p in [*presets, *specs]):
        raise ExportError(NOTHING_TO_RENDER, field="presets")
    if len(specs) > MAX_SPECS:
        raise ExportError(f"At most {MAX_SPECS} spec strings per export, not {len(specs)}.",
                          field="specs")
    presets = list(dict.fromkeys([*presets, *(
        export_selectors.SPEC_PREFIX + _spec_key(s.replace("\x00", "")[:400]) for s in specs)]))
    filters = _filters(product_ids, brand, approved_since)
    if destination not in ExportJob.Destination.values:
        raise ExportError(f"Unknown destination {destination!r}.", field="destination")
    folder = export_folder_clean(folder=folder, destination=destination)
    if destination == ExportJob.Destination.FOLDER and folder:
        taken = export_selectors.export_folder_taken(folder=folder)
        if taken:
            raise ExportError(taken, field="folder")
    plan, _ = _plan(presets, filters, include_failing=include_failing)
    if not plan.items:
        # named after the filter that selected nothing approved, so the API's 422 and the
        # form point at it; the selected images' states say why
        field = _empty_selection_field(filters)
        unapproved = export_selectors.export_not_approved(**filters)
        why = f" {unapproved.detail}." if unapproved is not None else ""
        since = filters.get("approved_since")
        earlier = since and export_selectors.export_candidates(
            product_ids=filters.get("product_ids"), brand=filters.get("brand", "")).count()
        if earlier:
            # the date left out every approved image: the states of the others are not why
            # (QA 2026-12-06: it said "flagged: QA001 MAIN" with 14 approved before the date)
            field = "approved_since"
            counted = (f"{earlier:,} approved images match the other filters, all" if earlier > 1
                       else "1 approved image matches the other filters,")
            why = f" {counted} approved before {since}.{why}"
        raise ExportError("Nothing to export: no approved cutouts match these filters."
                          + why, field=field)
    if plan.collisions:
        raise ExportCollisionError(plan.collisions)
    return presets, filters, folder, plan


def export_job_claim(*, job_id: int, worker: str = "") -> str | None:
    """Compare-and-set queued -> running; only the holder of the token may finish the job.
    A run whose worker died is put back to queued by the reconciler and claimed again; it
    starts over from the rendition cache, so nothing already rendered is rendered twice.
    Its bar and counts stay at the dead run's until the new run passes them, and the
    message says why (``RESTART_NOTE``): they never go backwards."""
    return jobs.job_claim(ExportJob, job_id, worker=worker)


#: what a re-queued export says until its new run passes the point the dead one reached
RESTART_NOTE = ("Restarted after the worker running it stopped: catching up on the files "
                "already done (from the rendition cache, not rendered again).")


@transaction.atomic
def export_job_cancel(*, job: ExportJob) -> ExportJob:
    """Stop a queued or running export (a running one stops at its next progress update) and
    announce ``export.finished`` (status cancelled): the run that notices stops silently.
    Returns the job as cancelled; raises ExportFinishedError when it already ended."""
    cancelled = ExportJob.objects.filter(
        pk=job.pk, status__in=[JobStatus.QUEUED, JobStatus.RUNNING]
    ).update(status=JobStatus.CANCELLED, finished_at=timezone.now(), message="Cancelled.")
    current = ExportJob.objects.get(pk=job.pk)
    if not cancelled:
        raise ExportFinishedError(
            f"Export {current.pk} is already {current.get_status_display().lower()}; "
            "nothing is left to cancel.")
    events.export_finished(current)
    return current


def _progress(job_id: int, token: str, **fields) -> None:
    if not jobs.job_progress(ExportJob, job_id, token, **fields):
        raise _Cancelled()


def _at(index: int, item) -> dict:
    """The checkpoint of the plan item a run is on (the first of the cutout it renders
    next): what ``export_dead_run_fail`` names when the worker keeps dying on it."""
    return {"at": {"index": index, "sku": item.sku, "position": item.position,
                   "asset_id": item.asset_id, "cutout_id": item.cutout_id}}


class _RenderCount:
    """The files a run is done with, counted per render (cutout x preset), not per cutout: a
    cutout with many presets on a big image used to hold the bar still until its last
    render. Render threads report each preset they finish (``rendered``: the cutout's place
    in the plan's groups and the preset); the job's thread each cutout it takes (``take``),
    whose files then all count, refused and unrenderable ones included.

    ``taken`` counts the files of the cutouts taken; ``waiting`` adds those rendered of the
    cutout the job's thread waits for (the next one in plan order). Cutouts rendered ahead
    of it count when they are taken: the bar moves with the cutout the run is on, and a
    checkpoint's bar and counts (``taken``) describe the same files, as a run after a dead
    one expects (``RESTART_NOTE``). Neither goes backwards: a cutout's renders are replaced
    by all of its files when it is taken."""

    def __init__(self, groups: list[tuple[int, list[Any]]]) -> None:
        self._groups = groups
        self._lock = threading.Lock()
        self._rendered: dict[int, int] = {}  # group index -> files rendered, not taken yet
        self._next = 0  # the group the job's thread takes next
        self.taken = 0
        self.stopped = False

    def rendered(self, group: int, preset: str) -> None:
        if self.stopped:
            # the run was cancelled: the render thread leaves its cutout's other presets
            # (the pool is waited for on the way out, a big cutout's presets took minutes)
            raise _Cancelled()
        files = sum(1 for item in self._groups[group][1]
                    if item.preset == preset and not item.error)
        with self._lock:
            self._rendered[group] = self._rendered.get(group, 0) + files

    def take(self, group: int) -> None:
        with self._lock:
            self._rendered.pop(group, None)
            self.taken += len(self._groups[group][1])
            self._next = group + 1

    @property
    def waiting(self) -> int:
        with self._lock:
            return self.taken + self._rendered.get(self._next, 0)


class _ProgressWrites:
    """The one policy for writing a run's progress on its row. A checkpoint (the cutout a
    real run starts, which ``export_dead_run_fail`` names) is written at once, with the bar
    as it stands; progress alone at most once per ``PROGRESS_EVERY_SECONDS`` and only when
    it moved, so beside the checkpoints the row is written at most once a second or once
    per render, whichever is fewer. A run after a dead one (``RESTART_NOTE``) writes no
    progress until the files it took pass the dead run's bar (``resume_from``), so neither
    the bar nor the counts go backwards."""

    def __init__(self, job: ExportJob, run_token: str, count: _RenderCount, *,
                 resume_from: int, restarting: bool,
                 progress: Callable[[int, int], None] | None, total: int) -> None:
        self.job_id, self.token, self.count = job.pk, run_token, count
        self.resume_from, self.restarting = resume_from, restarting
        self.progress, self.total = progress, total
        self.counts: dict[str, int] = {"exported_count": 0, "failed_count": 0}
        self.last = time.monotonic()
        # what the row says (a new run's 0 is not written again), what ``progress`` was told
        self.written, self.told = job.progress_done, -1

    def tick(self) -> None:
        """While the job's thread waits for a cutout's renders (``plan_renditions``'s
        ``on_wait``)."""
        self._write(self.count.waiting, None)

    def step(self, checkpoint: dict | None) -> None:
        """After the job's thread took a cutout (``checkpoint``: the next one's, in a real
        run)."""
        self._write(self.count.taken, checkpoint)

    def _write(self, done: int, checkpoint: dict | None) -> None:
        """Raises ``_Cancelled`` when the run lost its row (the next write after a cancel)."""
        if self.progress and done != self.told:
            self.progress(done, self.total)  # a terminal's bar: no row written
            self.told = done
        now = time.monotonic()
        if checkpoint is None and (done == self.written
                                   or now - self.last < PROGRESS_EVERY_SECONDS):
            return
        fields: dict[str, Any] = {"checkpoint": checkpoint} if checkpoint is not None else {}
        if self.count.taken >= self.resume_from:
            fields.update(progress_done=done, **self.counts)
            if self.restarting:
                fields["message"] = ""  # caught up: RESTART_NOTE no longer holds
                self.restarting = False
            self.written = done
        if fields:
            try:
                _progress(self.job_id, self.token, **fields)
            except _Cancelled:
                self.count.stopped = True
                raise
            self.last = now


def export_job_run(*, job_id: int, run_token: str | None,
                   progress: Callable[[int, int], None] | None = None,
                   interrupts: tuple[type[BaseException], ...] = (),
                   report: dict | None = None) -> str:
    """Run a claimed export job. Returns 'done', 'failed', 'cancelled' or 'skipped' (also
    without a token: ``export_job_claim`` answered None).

    An exception of ``interrupts`` (the task's time limit) is not handled here: it leaves
    after the partial files are discarded, and the caller ends the job (``export_job_fail``)
    with ``report``, which this run fills in as it goes."""
    job = ExportJob.objects.filter(pk=job_id).first()
    if (run_token is None or job is None or job.status != JobStatus.RUNNING
            or job.run_token != run_token):
        return "skipped"
    report = report if report is not None else {}
    # the run writes its report over the job's: keep where the export was made
    # (report["origin"], set by export_job_create), in the caller's dict for a time-out too
    origin = (job.report or {}).get("origin") if isinstance(job.report, dict) else None
    if origin:
        report["origin"] = origin
    with jobs.job_heartbeat(ExportJob, job_id, run_token):
        return _export_execute(job, run_token, progress, interrupts, report)


def _export_execute(job: ExportJob, run_token: str,
                    progress: Callable[[int, int], None] | None,
                    interrupts: tuple[type[BaseException], ...], report: dict) -> str:
    job_id = job.pk
    manifest_file = tempfile.TemporaryFile()  # noqa: SIM115 - closed in finally
    sink: ZipSink | FolderSink | None = None
    report.update({"collisions": [], "excluded": [], "excluded_count": 0})
    try:
        plan, resolved = _plan(job.presets, job.filters, include_failing=job.include_failing)
        if plan.collisions:
            report["collisions"] = plan.collisions
            raise ExportError(f"{len(plan.collisions)} naming collision(s); nothing exported.")
        presets = {p.name: p for p in resolved}
        total = len(plan.items)
        # a run after a dead one keeps its bar and counts until it passes them (RESTART_NOTE)
        resume_from = min(job.progress_done, total)
        restarting = job.message == RESTART_NOTE
        _progress(job.pk, run_token, progress_total=total,
                  **({"checkpoint": _at(0, plan.items[0])} if plan.items else {}))
        if not job.dry_run:
            sink = (FolderSink(job.folder, resumed=job.attempts > 1)
                    if job.destination == ExportJob.Destination.FOLDER else ZipSink())
        text, writer = manifest_writer(manifest_file)
        # failing = shipped despite failing compliance (include_failing): said in the result,
        # not only in the manifest and the contact sheet ("2 exported, 0 excluded" read clean)
        exported = excluded = done = would = failing = provisional = 0
        written: dict[str, str] = {}  # the files written, by casefolded name: which image
        exported_cutouts: set[int] = set()
        # a cutout shipped by some presets and refused by others reads Exported (its files
        # went out) and says "Partly exported" with what was refused: the RefusedVariant
        # rows, written when the job finishes
        refused_cutouts: set[int] = set()
        refusals: list[tuple[int, str, str, str]] = []  # (asset, preset, label, reason)
        tally = export_selectors.PresetTally.start(resolved)  # report["presets"]
        groups = list(plan_grouped(plan.items))
        count = _RenderCount(groups)
        write = _ProgressWrites(job, run_token, count, resume_from=resume_from,
                                restarting=restarting, progress=progress, total=total)
        # a dry run lays scenes out on their backgrounds' sizes (no pixel decoded)
        scenes = scene_layout_assets(presets=resolved) if job.dry_run else {}
        for index, (items, outputs, source) in enumerate(
                plan_renditions(groups, presets, render=not job.dry_run,
                                on_render=count.rendered, on_wait=write.tick)):
            renditions_persist((item.cutout_id, out)
                               for item, out in zip(items, outputs, strict=True))
            for item, out in zip(items, outputs, strict=True):
                # a dry run renders nothing: what the layout refuses (over 100 MP, enlarged
                # past the limit) and what the stored signals say the check will refuse (a
                # frame-cut main image on Amazon, a faint mark on white) used to read "would
                # be rendered" and then was excluded (box and signals come with the plan's
                # source: one read of the cutout's row)
                foreseen, warned = (_foresee(presets[item.preset], source, scenes)
                                    if job.dry_run and out is None and not item.error
                                    else (None, []))
                # what the stored signals add to a file that ships: the pre-check's own
                # warnings of it, kept with the file for an export started anyway
                noted = ([] if item.error else
                         stored_warnings(presets[item.preset], source, _warnings(out)))
                row, include = manifest_row_for(job, item, out, foreseen, noted)
                taken = (written.get(item.path.casefold())
                         if include and sink is not None else None)
                if taken is not None:
                    # planned as refused (_refused_anyway), so its name clash did not stop
                    # the export, yet it passed: left out, never written over the other
                    row, include = manifest_row_for(job, dataclasses.replace(
                        item, error=f"its file name is taken by {taken}"), None)
                elif include and sink is not None:
                    written[item.path.casefold()] = f"{item.sku} {item.position}".strip()
                provisional += bool(out is not None and out.provisional)
                # which image of the product the row is: one SKU's rows otherwise read alike
                row.update(position=variants.csv_safe(item.position),
                           asset_id=variants.csv_safe(item.asset_id),
                           spec=variants.csv_safe(presets[item.preset].spec))
                writer.writerow(row)
                if include and sink is not None:
                    assert out is not None and out.data is not None  # included: rendered
                    sink.write(item.path, out.data)
                    exported += 1
                    failing += not out.ok
                    exported_cutouts.add(item.cutout_id)
                    tally.shipped(item, [*_warnings(out), *noted])
                elif job.dry_run and _would_write(item, out, foreseen,
                                                  include_failing=job.include_failing):
                    would += 1
                    failing += bool(out is not None and out.fields and not out.ok
                                    or foreseen is not None)
                    tally.shipped(item, [*(_warnings(out) or warned), *noted])
                else:
                    excluded += 1
                    refused_cutouts.add(item.cutout_id)
                    reason = variants.csv_unescape(row["compliance"])
                    short = export_selectors.refusal_reason(reason, item.sku)
                    tally.refused(item, reason)  # in full on the export's page
                    if not job.dry_run:
                        # every one, short: the product page's "Partly exported ..."
                        refusals.append((item.asset_id, item.preset,
                                         presets[item.preset].label, short))
                    if len(report["excluded"]) < MAX_REPORTED:
                        report["excluded"].append({
                            "sku": item.sku, "preset": item.preset, "file": item.path,
                            "position": item.position, "asset_id": item.asset_id,
                            "reason": reason})
                if out is not None:
                    out.data = None  # drop the bytes as soon as they are written
                done += 1
            count.take(index)
            write.counts.update(exported_count=exported, failed_count=excluded)
            following = groups[index + 1][1][0] if index + 1 < len(groups) else None
            # a real run notes every cutout it starts (one small write beside its renders),
            # so a worker that keeps dying on one is named (export_dead_run_fail)
            write.step(_at(done, following)
                       if following is not None and not job.dry_run else None)
        report["excluded_count"] = excluded
        report["failing_included_count"] = failing
        report["not_approved_count"] = _write_not_approved(job, resolved, writer, report)
        report[export_selectors.PRESETS_REPORT] = tally.as_report()
        if job.dry_run:
            report["would_export"] = would
            report["provisional_count"] = provisional
        else:
            # images with a file written that some preset refused: "partly exported"
            report["partly_exported_count"] = len(refused_cutouts & exported_cutouts)
        text.flush()
        text.detach()
        return _finish(job, run_token, manifest_file, sink, report, exported, excluded,
                       exported_cutouts, refusals)
    except _Cancelled:
        if isinstance(sink, FolderSink):
            sink.discard()
        return "cancelled"
    except Exception as exc:
        if isinstance(sink, FolderSink):
            sink.discard()
        if isinstance(exc, interrupts):
            raise
        if not isinstance(exc, ExportError):
            logger.exception("export %s failed", job_id)
        if isinstance(exc, ExportError):
            message = str(exc)
        elif isinstance(exc, OSError) or hasattr(exc, "response"):
            # Disk full, S3 5xx or a timeout while writing: say so, the job ends failed.
            message = "The export could not be written: " + _storage_error_text(exc)
        else:
            message = f"Unexpected error: {type(exc).__name__}: {exc}"
        return export_job_fail(job_id=job.pk, run_token=run_token, message=message,
                               report=report)
    finally:
        if isinstance(sink, ZipSink):
            sink.close()
        manifest_file.close()


def _storage_error_text(exc: BaseException) -> str:
    """Why storage refused, without the server's paths: an OSError's text names the file by
    its absolute path (the log has it), which a user is not to see."""
    from catalog.services.assets import storage_error_text

    text = storage_error_text(exc).replace("Not stored: ", "")
    if isinstance(exc, OSError) and text.startswith("storage error ("):
        text = f"storage error ({type(exc).__name__}: {exc.strerror or 'I/O error'})."
    return text


def _write_not_approved(job: ExportJob, presets: list[variants.Preset], writer,
                        report: dict) -> int:
    """Write a manifest row per preset for each selected image that is not exported for want
    of an approved cutout (the plan holds approved ones only, so they would otherwise be
    missing without a word), keep the first ``MAX_REPORTED`` on the job and return how many
    images (and image-less products) there were."""
    rows = report.setdefault("not_approved", [])
    count = 0
    for image in export_selectors.export_not_approved_rows(**job.filters):
        for preset in presets:
            writer.writerow(manifest_row_not_approved(row=image, preset=preset))
        count += 1
        if len(rows) < MAX_REPORTED:
            rows.append({"sku": image.sku, "position": image.position,
                         "asset_id": image.asset_id, "reason": image.reason})
    return count


def _warnings(out: Any) -> list[str]:
    """The compliance warnings of a file that ships (none for one not checked yet)."""
    if out is None or not out.fields:
        return []
    return [str(w) for w in out.fields.get("compliance", {}).get("warnings") or []]


def _finish(job, run_token, manifest_file, sink, report, exported, excluded,
            exported_cutouts, refusals) -> str:
    exports = storages["exports"]
    manifest_file.seek(0)
    manifest_name = exports.save(f"manifests/export-{job.pk}-manifest.csv",
                                 File(manifest_file, name="manifest.csv"))
    zip_name = ""
    # A ZIP of nothing but the manifest offers a download that holds no image: keep only the
    # manifest (downloadable on its own) and say why nothing was written.
    if isinstance(sink, ZipSink) and exported:
        sink.finish(manifest_file)
        zip_name = exports.save(f"zips/cutroom-export-{job.pk}.zip",
                                File(sink.file, name=f"cutroom-export-{job.pk}.zip"))
    elif isinstance(sink, FolderSink):
        manifest_file.seek(0)
        sink.write("manifest.csv", manifest_file.read())
    unapproved = report.get("not_approved_count") or 0
    # said in the result, not only in the manifest: "2 exported, 0 excluded" for 3 selected
    # products read as if the export were complete
    not_approved = (f" {unapproved} selected image(s) {'would not be' if job.dry_run else 'not'}"
                    " exported: not approved (see the manifest)." if unapproved else "")
    failing = report.get("failing_included_count") or 0
    if job.dry_run:
        despite = f" ({failing} despite failing compliance)" if failing else ""
        unsure = report.get("provisional_count") or 0
        later = (f" {unsure} verdict(s) checked with the presets' earlier rules are re-checked "
                 "on export (counted as last checked)." if unsure else "")
        message = (f"Dry run: {report.get('would_export', 0)} file(s) would be exported"
                   f"{despite}{f', {excluded} excluded' if excluded else ''}; nothing written."
                   f"{later}")
    elif not exported:
        message = (f"0 files written: all {excluded} excluded — see the reasons."
                   if excluded else "0 files written.")
    else:
        despite = f" ({failing} despite failing compliance)" if failing else ""
        message = f"{exported} file(s) exported{despite}, {excluded} excluded."
    message += not_approved
    partly = report.get("partly_exported_count") or 0
    if partly:
        # the owner reads this in a notification on the dashboard too, which has no Presets
        # section: name the export's page, which the notification links to
        message += (f" {partly} image(s) partly exported: a chosen preset refused them (see "
                    "the Presets table on the export's page; each image's page says which).")
    with transaction.atomic():
        finished = jobs.job_finish(
            ExportJob, job.pk, run_token, progress_done=job.progress_total,
            exported_count=exported, failed_count=excluded, manifest_name=manifest_name,
            zip_name=zip_name, report=report, message=message)
        if finished:
            _refusals_store(job.pk, refusals)
        if finished and exported_cutouts:
            ids = sorted(exported_cutouts)
            # the job's own end: an image's refusals by this job are over only once a later
            # export ships it (export_refusals_latest compares the two)
            now = ExportJob.objects.filter(pk=job.pk).values_list("finished_at", flat=True).get()
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
        if isinstance(sink, FolderSink):
            sink.discard()
        return "cancelled"
    job.refresh_from_db()
    _notify(job, f"Export {job.pk} finished: {message}",
            anchor=PRESET_RESULTS_ANCHOR if partly else "")
    events.export_finished(job)
    return "done"


def _refusals_store(job_id: int, refusals: list[tuple[int, str, str, str]]) -> None:
    """The run's refusals as rows, in the transaction that finishes it: a run that dies or is
    cancelled leaves none, and a resumed run writes its own once."""
    ids = sorted({asset_id for asset_id, *_ in refusals})
    known: set[int] = set()
    for start in range(0, len(ids), 500):  # an image purged while the export ran has no row
        known.update(ImageAsset.objects.filter(pk__in=ids[start:start + 500])
                     .values_list("pk", flat=True))
    RefusedVariant.objects.bulk_create(
        (RefusedVariant(job_id=job_id, asset_id=asset_id, preset=preset[:120], label=label[:200],
                        reason=reason[:200])
         for asset_id, preset, label, reason in refusals if asset_id in known), batch_size=1000)


def _foresee(preset: variants.Preset, source: _Source | None,
             scenes: dict[str, dict[str, variants.SceneAsset]] | None = None,
             ) -> tuple[tuple[str, bool] | None, list[str]]:
    """What the real run would refuse of a file a dry run does not render, from the cutout's
    stored measures (its ``source``): (why, whether include_failing still ships it), or None;
    and the warnings its check would give it, in the check's words (the Presets table's
    *warned*: an eBay file the photo's frame cuts ships "ok (warnings)").
    From the product's box size, laid out as the renderer lays it out
    (``compliance.product_layout``; a scene on its backgrounds, ``scenes``: per preset, from
    ``scene_layout_assets``, as render_scene places it; one without them, a background that
    cannot be read, is not foreseen for size): a layout over the output pixel limit is never
    rendered, in the real run's words (``render_refusal``); the scale is judged by
    ``check_source`` itself, the check of the rendered file's function and words (a product
    under MIN_PRODUCT_PX or enlarged past MAX_ENLARGEMENT fails compliance, a master too
    small for the marketplaces warns). From the stored signals, the spec's format and the
    layout's output size, judged by the functions the check of the file asks
    (``compliance.foreseen``), in its order: a product the photo's frame cuts on a
    whole-product preset's main image (``frame_cut_verdict``), a faint mark a white preset
    refuses (the verdict ``faint_marks_refused`` gives the pre-check), an output format or
    size the preset's own rules refuse (an admin's edited preset). Last, as the real run
    adds it after the file's check, a scene in a preset whose rules forbid scenes
    (``check_spec``). Warnings: the renderer's enlargement warning
    (``render.warn_enlarged``), ``check_source``'s and ``compliance.foreseen``'s (a frame cut
    where the preset warns, a faint mark it does not refuse, a side under the recommended
    one)."""
    if source is None:
        return None, []
    spec = preset.variant_spec
    errors: list[str] = []
    warnings: list[str] = []
    canvas: tuple[int, int] | None = None
    if source.box is not None:
        frame, (pw, ph), fill = source.box
        scale: float | None = None
        try:
            if spec.is_scene:
                assets = (scenes or {}).get(preset.name)
                if assets is not None:
                    scale = variants.scene_scale(spec, (pw, ph), assets)
                    canvas = spec.fixed_canvas()
            else:
                lay = product_layout(spec, frame, (pw, ph), fill)
                scale, canvas = lay.scale, lay.canvas
        except variants.RenderError as exc:
            return (render_refusal(exc), False), []
        warn_enlarged(warnings, scale, (0, 0, pw, ph))
        judged = variants.ComplianceResult()
        check_source(judged, scale, (pw, ph))
        errors += judged.errors
        warnings += judged.warnings
    signals = foreseen(preset, frame_cut=source.frame_cut, faint_marks=source.faint_marks,
                       position=source.position or None, canvas=canvas,
                       dropped_parts=source.dropped_parts)
    errors += signals.errors
    warnings += signals.warnings
    # after the file's check, as the real run adds it
    errors += variants.check_spec(spec, preset.rules)
    return ((f"failed: {'; '.join(errors)}", True) if errors else None), warnings


def stored_warnings(preset: variants.Preset, source: _Source | None,
                    rendered: list[str] | None = None) -> list[str]:
    """The warnings a file of ``preset`` ships with that neither its render nor the check of
    its pixels can give, from the cutout's stored signals (its ``source``): a contact shadow
    under a stray part (``compliance.shadow_off_warning``, the pre-check's
    ``shadow-off-body`` rule). The pre-check's other image warnings reach the file through
    its render and check (enlarged, cut by the photo's edge) or refuse it (too small, faint
    marks on white); ``tests/cutouts/test_export_precheck_manifest.py`` holds every kind of
    ``export_selectors.IMAGE_CHECK_CODES`` to reaching the manifest (2026-12-07, export46;
    verify45 L3: a file exported anyway despite *shadow off the product* read "ok"). A
    ``shadow-keep`` preset's is the version's kept layer's (``compliance.kept_shadow_off``;
    2026-12-07, keepshadow47; verify47). Not when the file's render (its warnings,
    ``rendered``) left that kept shadow out with the far detached part it lay under
    (``render.kept_shadow_left_out``): the file carries no kept shadow, and its render says
    so instead (2026-12-08, verify48b; verify48: eBay's shadowless file read "the kept shadow
    lies off the product"). A file not rendered (a dry run's) keeps the version's word, as
    the pre-check does: only the render can tell."""
    if source is None:
        return []
    kept = source.kept_shadow_off
    if variants.kept_shadow_left_out_said(rendered or ()):
        kept = None
    said = [variants.shadow_off_warning(preset.variant_spec, source.shadow_off, kept)]
    return [warning for warning in said if warning]


def _would_write(item: Any, out: Any, foreseen: tuple[str, bool] | None, *,
                 include_failing: bool) -> bool:
    """Whether a planned file a dry run does not render would go into the real export: it can
    be named and is not rendered yet, or its cached rendition passes (or failing ones are
    included); and what its stored measures foresee (``_foresee``) does not refuse it, or
    ``include_failing`` ships it anyway. One rule for the dry run's counts and for which
    files can collide (``_refused_anyway``)."""
    if item.error:
        return False
    if not (out is None or not out.fields or out.ok or include_failing):
        return False
    return foreseen is None or (foreseen[1] and include_failing)


#: the id of the per-preset table on the export's page (templates/cutouts/export/detail.html)
PRESET_RESULTS_ANCHOR = "preset-results"


def _notify(job: ExportJob, text: str, anchor: str = "") -> None:
    if job.created_by_id:
        url = reverse("cutouts:export_detail", args=[job.pk]) + (f"#{anchor}" if anchor else "")
        notification_create(user=job.created_by, text=text, url=url)


def export_job_is_final(*, job_id: int) -> bool:
    status = ExportJob.objects.filter(pk=job_id).values_list("status", flat=True).first()
    return status is None or status in FINAL_STATUSES


def export_job_fail(*, job_id: int, run_token: str, message: str,
                    report: dict | None = None) -> str:
    """End a running export as failed with ``message`` (if this run still holds it) and tell
    its owner. Returns 'failed'."""
    _export_failed(job_id, run_token, message, report)
    return "failed"


def _export_failed(job_id: int, run_token: str, message: str, report: dict | None) -> bool:
    """The one end of a failed export: a compare-and-set on the run's token, then the owner's
    notification and ``export.finished``, once. False when the run no longer held it."""
    fields: dict[str, Any] = {"report": report} if report is not None else {}
    if not jobs.job_fail(ExportJob, job_id, run_token, message, **fields):
        return False
    job = ExportJob.objects.get(pk=job_id)
    _notify(job, f"Export {job.pk} failed: {message}")
    events.export_finished(job)
    return True


def export_dead_run_fail(job: ExportJob, reason: str) -> bool:
    """The export kind's ``on_give_up`` (``jobs.JobKind``): its worker died on every attempt,
    most likely rendering one image (one that runs it out of memory). Failed as any export
    fails (``_export_failed``: notification, ``export.finished``), once; the message names
    the image its checkpoint says the run was on, how far it got and how many files it
    never reached (``report["gave_up_at"]``, ``report["not_reached_count"]``)."""
    at = dict((job.checkpoint or {}).get("at") or {})
    total = job.progress_total
    done = min(int(at.get("index", job.progress_done)), total)
    where = ""
    if at.get("sku"):
        image = f", image {at['position']}" if at.get("position") else ""
        where = (f" while rendering {at['sku']}{image} — too large or damaged? Export again "
                 "without it (the files already rendered come from the cache)")
    message = (f"Failed after {done:,} of {total:,} files; {total - done:,} never reached and "
               f"nothing delivered: {reason}{where}.")
    report = {**(job.report if isinstance(job.report, dict) else {}),
              "gave_up_at": at, "not_reached_count": total - done}
    return _export_failed(job.pk, job.run_token, message, report)


jobs.job_kind_register(jobs.JobKind(
    name="export", model=ExportJob, enqueue=enqueue_tasks.export_jobs_send,
    run_limit=lambda job: EXPORT_TIME_LIMIT,
    # the dead run's bar stays (it never goes backwards); the page says why
    requeue_fields=lambda: {"message": RESTART_NOTE},
    on_give_up=export_dead_run_fail,
))
