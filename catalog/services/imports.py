"""Import jobs: creating them, browser-upload sessions (files, finish, stale sessions),
cancel and fail, and the import kind the one job reconciler handles."""

import contextlib
import dataclasses
import itertools
import os
import re
import uuid
import zipfile
import zlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import timedelta
from typing import BinaryIO

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Greatest
from django.utils import timezone

from .. import enqueue as catalog_enqueue
from .. import events, jobs
from ..errors import ImportRefused, StorageDownError
from ..ingest import archives
from ..ingest.manifest import Manifest, file_key
from ..ingest.naming import FilenameRules, fold_sku, position_order_name
from ..lru import LruCache
from ..models import ImageAsset, ImportIssue, ImportJob, JobStatus
from . import import_runner
from .assets import (
    STORAGE_FAULT,
    HashLookup,
    IngestResult,
    asset_positions_by_name,
    duplicate_row_words,
    identical_words,
    import_path_of,
    original_filename_of,
    storage_default,
)
from .import_mapping import (
    MISSING_FROM,
    ImportRun,
    import_summary,
    manifest_display_name,
    manifest_missing_text,
    manifest_parse,
    manifest_refusals_kept,
    unlisted_text,
)


def _store_upload(job_key: str, upload, fallback: str) -> tuple[str, str]:
    original = os.path.basename(getattr(upload, "name", "") or fallback)[:200] or fallback
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", original) or fallback
    if hasattr(upload, "seek"):
        upload.seek(0)
    name = storage_default().save(f"imports/{job_key}/{safe}", File(upload, name=safe))
    return name, original


#: ``ImportJob.options`` key: a session's manifest as the page took it (``import_job_create``).
MANIFEST_PATH = "manifest_path"


def session_manifest_path(job: ImportJob) -> str | None:
    """The path of a browser session's manifest among its files' paths, for
    ``archives.entry_name_problem``: the one the page took (``MANIFEST_PATH``), else a root
    manifest.csv (a session from before it was kept); None without a manifest."""
    if not job.manifest_name:
        return None
    return (job.options or {}).get(MANIFEST_PATH) or archives.MANIFEST_NAME


#: Why a ZIP none of whose entries is an image is refused, by the preview and before its
#: import starts (QA finding 11: it ran to "Done 0/0 · 0 imported").
ZIP_NO_IMAGES_REASON = "The archive holds no images: nothing to import."
#: Other files ``zip_no_images_reason`` names, at most.
NO_IMAGES_NAMES_SHOWN = 3


def zip_no_images_reason(names: Iterable[str]) -> str:
    """``ZIP_NO_IMAGES_REASON``, with the files the ZIP holds instead, when none of its entry
    ``names`` is an image by its name; "" when one is (even one the import will refuse, with
    its own reason: ``../x.jpg``). Desktop metadata and the manifest (``archives.manifest_path``)
    count as nothing (``archives.is_ignored``), folders neither. The preview and
    ``import_job_create`` both ask here."""
    names = list(names)
    manifest = archives.manifest_path(names)
    others = []
    for name in names:
        if not name or name.endswith("/") or archives.is_ignored(name, manifest=manifest):
            continue
        if not archives.not_image_reason(name):
            return ""
        others.append(name)
    if not others:
        return ZIP_NO_IMAGES_REASON
    shown = ", ".join(others[:NO_IMAGES_NAMES_SHOWN])
    more = f" and {len(others) - NO_IMAGES_NAMES_SHOWN} more" if len(
        others) > NO_IMAGES_NAMES_SHOWN else ""
    files = "one file is not an image" if len(others) == 1 else (
        f"{len(others)} files are not images")
    return f"{ZIP_NO_IMAGES_REASON} Its {files}: {shown}{more}."


def _zip_refuse_without_images(fileobj: BinaryIO) -> None:
    """``ImportRefused`` for a ZIP without an image, read from its directory (a few kB). A ZIP
    that cannot be read here is left to the import, which says why in its own words
    (``archives.ZipSource``: damaged, not a ZIP)."""
    try:
        with zipfile.ZipFile(fileobj) as zf:
            names = zf.namelist()  # folders end in "/": zip_no_images_reason skips them
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError,
            zlib.error):
        return
    finally:
        if hasattr(fileobj, "seek"):
            fileobj.seek(0)
    if reason := zip_no_images_reason(names):
        raise ImportRefused(reason)


def _job_options(
    *, patterns, regex, create_products, encoding, use_folders, replace=False,
) -> dict:
    options = {
        "patterns": [p for p in (patterns or []) if p],
        "regex": regex or "",
        "create_products": bool(create_products),
        "encoding": encoding or "utf-8",
        "use_folders": bool(use_folders),
        # a file for a taken explicit position replaces the older image there (asset_ingest)
        "replace": bool(replace),
    }
    FilenameRules.from_options(options)  # raises NamingError on a bad pattern, before any work
    return options


#: A session's option: the file keys its manifest gives no row (``Manifest.unbound``).
MANIFEST_UNBOUND = "manifest_unbound"


def import_job_create(
    *, user, source_kind: str, source_file=None, source_path: str = "", manifest_file=None,
    patterns: list[str] | tuple[str, ...] = (), regex: str = "", create_products: bool = False,
    encoding: str = "utf-8", use_folders: bool = True, expected_files: int = 0,
    enqueue: bool = True, replace: bool = False, names: Iterable[str] | None = None,
    manifest_path: str = "", not_sent: "PageNames | None" = None,
) -> ImportJob:
    """Create an import job.

    ``zip``: ``source_file`` (an upload, streamed to storage) or ``source_path`` (server
    file, management command only); queued for ``import_job_run_task`` unless ``enqueue`` is
    False. ``folder``: ``source_path`` only. ``upload``: a browser batch; the job is running at
    once and each file goes through ``import_job_upload_file``, then ``import_job_finish``.
    A manifest is checked here, so a broken one is refused before anything is stored; so is a
    ZIP without an image (``zip_no_images_reason``), read from its directory.
    ``replace``: a file for an explicit position an older image holds replaces that image
    (soft-deleted) instead of being refused; kept in the job's options for every file.
    Raises one of ``errors.IMPORT_REFUSALS`` with a message for the user.
    ``names``: a session's files as the page declares them (paths), so its manifest's rows
    are matched to all of them at once (``Manifest.bind``: a row naming a base name that
    several folders hold goes to none); what that leaves unmatched is kept in the options.
    ``manifest_path``: a session's, the path the page took ``manifest_file`` from (a picked
    folder's ``shoot/manifest.csv``; by default its file name), kept in the options so a file
    named as a second manifest beside it (``Manifest.CSV``) is reported
    (``session_manifest_path``).
    ``not_sent``: a session's, the files the page will not send (skipped by name, held by its
    preview, already stored), named at its start and kept in the options (``START_NAMES``):
    the session's end reports them however it ends (the last file, the page's finish, the
    idle sweep), so a tab closed before the finish loses none of them (QA38 H1).

    The ZIP is copied to storage before the transaction opens: a multi-GB copy inside it
    would hold SQLite's write lock for minutes. An upload session's manifest is applied in
    chunks after the job row is committed, so other writers are never locked out for long.
    """
    if source_kind not in ImportJob.Source.values:
        raise ImportRefused(f"Unknown import source {source_kind!r}")
    options = _job_options(
        patterns=patterns, regex=regex, create_products=create_products, encoding=encoding,
        use_folders=use_folders, replace=replace,
    )
    manifest = None
    if manifest_file is not None:
        if hasattr(manifest_file, "seek"):
            manifest_file.seek(0)
        # the report names the manifest as the manager knows it (manifest_bad3.csv)
        options["manifest_filename"] = manifest_display_name(manifest_file)
        if source_kind == ImportJob.Source.UPLOAD:
            options[MANIFEST_PATH] = (manifest_path[:archives.MAX_PATH_CHARS]
                                      or options["manifest_filename"])
        manifest = manifest_parse(manifest_file.read(), encoding=options["encoding"],
                                  name=options["manifest_filename"])
        if names is not None and source_kind == ImportJob.Source.UPLOAD:
            manifest.bind(names)
            if manifest.unbound:
                options[MANIFEST_UNBOUND] = manifest.unbound
    job_key = uuid.uuid4().hex
    job = ImportJob(
        created_by=user if getattr(user, "is_authenticated", False) else None,
        source_kind=source_kind, options=options, source_path=source_path,
    )
    if source_kind == ImportJob.Source.ZIP:
        if source_file is not None:
            _zip_refuse_without_images(source_file)  # before a multi-GB copy to storage
            job.source_name, job.source_filename = _store_upload(job_key, source_file, "import.zip")
        elif source_path:
            # an unreadable path is the import's to report, as before
            with contextlib.suppress(OSError), open(source_path, "rb") as handle:
                _zip_refuse_without_images(handle)
            job.source_filename = os.path.basename(source_path)
        else:
            raise ImportRefused("A ZIP import needs a ZIP file.")
    elif source_kind == ImportJob.Source.FOLDER:
        if not source_path:
            raise ImportRefused("A folder import needs a server folder path.")
        job.source_filename = os.path.basename(os.path.normpath(source_path))
    if manifest_file is not None:
        job.manifest_name, _ = _store_upload(job_key, manifest_file, "manifest.csv")
    if source_kind == ImportJob.Source.UPLOAD:
        job.status = JobStatus.RUNNING
        job.started_at = job.heartbeat_at = timezone.now()
        job.progress_total = max(0, int(expected_files))
        # kept apart from progress_total, which a file past the count raises: a session that
        # declared none (0) never finishes on arrival (``upload_all_arrived``)
        job.options[EXPECTED_FILES] = job.progress_total
        if not_sent is not None and not_sent.any():
            job.options[START_NAMES] = not_sent.as_json()
    job = _import_job_save(job=job, enqueue=enqueue)
    if source_kind == ImportJob.Source.UPLOAD and manifest is not None:
        _manifest_remember(job, manifest)
        run = ImportRun(job)
        run.apply_manifest(manifest)
        ImportJob.objects.filter(pk=job.pk).update(
            checkpoint={"manifest": True, **manifest_refusals_kept(run, manifest)},
            heartbeat_at=timezone.now())
        job.refresh_from_db()
    return job


def _manifest_rows_missing(job: ImportJob, named: Sequence[str] = ()) -> tuple[int, int]:
    """At a session's end, an issue per manifest row whose file never came (not stored, not
    refused, not held back by the page, not failed): an error with both reasons for a row
    whose product the manifest step refused (``import_mapping.manifest_missing_text``), a
    warning for any other ("Manifest line 5 names IMG_9999.jpg, which is not among the
    uploaded files.", as a ZIP import says of a row whose file is not in the archive;
    otherwise nothing tells that a shot of a 500-row shoot never arrived: QA30 M5). Returns
    (errors, warnings) (the closing note on refusals not kept is not one)."""
    if not job.manifest_name:
        return 0, 0
    refused = (job.checkpoint or {}).get("refused") or {}
    manifest = _manifest_for(job)
    if not any(row.filename for row in manifest.rows):
        return 0, 0
    # a file that reached the session has an issue or an image of this job (stored, maybe
    # replaced since), each naming its path in the session (``ImageAsset.import_path``), so
    # the rows are matched to them as to the files (``Manifest.unmatched``: a row naming
    # back/x.jpg is not front/x.jpg's; a bare x.jpg is any folder's); ``named``: those the
    # page listed at its end, also past the 200 reported
    stored: list[str] = []
    # an image from before import_path (migration 0015) keeps only its base name: it takes a
    # row naming a file of that base name on its product
    bare: set[tuple[str, str]] = set()
    for sku, path, name in ImageAsset.objects.filter(import_job=job).values_list(
            "product__sku", "import_path", "original_filename").iterator():
        if path:
            stored.append(path)
        else:
            bare.add((fold_sku(sku), file_key(name)))
    came = itertools.chain(
        ImportIssue.objects.filter(job=job).values_list("filename", flat=True).iterator(),
        named, stored)
    issues = []
    errors = 0
    for row in manifest.unmatched(came):
        if (fold_sku(row.sku), file_key(row.filename).rsplit("/", 1)[-1]) in bare:
            continue
        refusal = refused.get(row.sku, "")
        errors += bool(refusal)
        issues.append(ImportIssue(
            job=job, filename=manifest.name[:512],
            level=ImportIssue.Level.ERROR if refusal else ImportIssue.Level.WARNING,
            reason=manifest_missing_text(row, where=MISSING_FROM["upload"], refusal=refusal)))
    warnings = len(issues) - errors
    more = int((job.checkpoint or {}).get("refused_more") or 0)
    if more:
        # a note, not an error: how many rows it stands for is not known (their products'
        # refusals were not kept), so it counts as none
        issues.append(ImportIssue(
            job=job, filename=manifest.name[:512], level=ImportIssue.Level.ERROR,
            reason=f"The manifest refused {more} more products with files; those of their "
                   "rows whose files did not arrive are not listed."))
    ImportIssue.objects.bulk_create(issues)
    return errors, warnings


@transaction.atomic
def _import_job_save(*, job: ImportJob, enqueue: bool) -> ImportJob:
    job.save()
    if enqueue and job.source_kind != ImportJob.Source.UPLOAD:
        catalog_enqueue.import_job_enqueue(job.pk)
    return job


# An upload session sends its files in many requests; each needs the manifest's file -> SKU
# map. Parsing 100k rows per file is what made big sessions crawl, so each process keeps
# the few most recent sessions' parsed manifests.
_MANIFESTS: LruCache[tuple[int, str], Manifest] = LruCache(4)


def _manifest_remember(job: ImportJob, manifest: Manifest) -> None:
    _MANIFESTS.put((job.pk, job.manifest_name), manifest)


def _manifest_for(job: ImportJob) -> Manifest:
    def parse() -> Manifest:
        with storage_default().open(job.manifest_name, "rb") as handle:
            manifest = manifest_parse(
                handle.read(), encoding=job.options.get("encoding", "utf-8"),
                name=job.options.get("manifest_filename", archives.MANIFEST_NAME))
        manifest.unbound = dict(job.options.get(MANIFEST_UNBOUND) or {})
        return manifest
    return _MANIFESTS.get((job.pk, job.manifest_name), parse)


def import_job_upload_file(*, job_id: int, fileobj: BinaryIO, filename: str, user=None,
                           hashes: HashLookup | None = None) -> IngestResult:
    """One file of a browser batch (``upload`` job): map it to a product and ingest it
    (``hashes``: its request's files', ``assets.asset_hash_lookup``)."""
    job = ImportJob.objects.get(pk=job_id, source_kind=ImportJob.Source.UPLOAD)
    if job.status != JobStatus.RUNNING:
        if job.status == JobStatus.CANCELLED:
            _upload_after_cancel(job, filename)
        return IngestResult(filename=filename, status=IngestResult.REJECTED,
                            reason=f"The import is {job.get_status_display().lower()}.",
                            code="job_closed")
    run = ImportRun(job)
    if job.manifest_name:
        run.manifest = _manifest_for(job)
    before = run.counters()
    skipped = archives.entry_name_problem(filename, manifest=session_manifest_path(job))
    if skipped is not None and skipped.kind == archives.NAME_IGNORED:
        # A hidden or system file, or one in such a folder (.hidden.jpg, ._IMG_1.jpg,
        # @eaDir/x.jpg/...): passed over and never reported, as a ZIP import passes over it;
        # the page sends none (the same rule). The code is asset_ingest's for such a name.
        result = IngestResult(filename=filename, status=IngestResult.REJECTED,
                              reason=skipped.reason, code=archives.NAME_IGNORED)
    elif skipped is not None:
        # What a ZIP import and the preview skip (readme.txt, a .gif), with their words.
        level = ImportIssue.Level.WARNING if skipped.skipped else ImportIssue.Level.ERROR
        run.issue(filename, skipped.reason, level)
        result = IngestResult(filename=filename, status=IngestResult.REJECTED,
                              reason=skipped.reason,
                              code="skipped" if skipped.skipped else "name")
    else:
        try:
            result = run.ingest(filename, fileobj, user, hashes=hashes)
        except StorageDownError:
            result = IngestResult(filename=filename, status=IngestResult.REJECTED,
                                  reason="Not stored: storage error.", code=STORAGE_FAULT)
    # Concurrent uploads of one batch add their own deltas; F() keeps every one of them.
    # More files than announced (a second drop) raise the total, so progress never reads 6/3.
    # A file delivered again (the browser retried after losing the answer) is no new arrival:
    # counted, it would finish the session before its last file came.
    arrived = 0 if _delivered_before(job, filename, result) else 1
    deltas = {k: F(k) + (v - before[k]) for k, v in run.counters().items() if v != before[k]}
    with transaction.atomic():
        ImportJob.objects.filter(pk=job_id).update(
            progress_done=F("progress_done") + arrived,
            progress_total=Greatest(F("progress_total"), F("progress_done") + arrived),
            heartbeat_at=timezone.now(), **deltas)
    # A file that took the next free position was noted in the job's checkpoint with its row
    # (``import_mapping.auto_position_remember``).
    # Every declared file in: the session ends here, whether or not the page ever calls its
    # finish (a closed tab read "Running 9/9" until the idle sweep).
    expected = int((job.options or {}).get(EXPECTED_FILES) or 0)
    if arrived and expected and ImportJob.objects.filter(
            pk=job_id, status=JobStatus.RUNNING, progress_done__gte=expected).exists():
        _upload_session_end(job_id=job_id)
    return result


def _delivered_before(job: ImportJob, filename: str, result: IngestResult) -> bool:
    """Whether this file reached the session before (the same path): its image is this
    session's, stored under its path (``a/x.jpg`` is not ``b/x.jpg`` of the same bytes:
    that is another file; an image from before ``import_path`` by its base name), or its
    refusal is in the report twice now."""
    if result.status == IngestResult.DUPLICATE:
        asset = result.asset
        if asset is None or asset.import_job_id != job.pk:
            return False
        if asset.import_path:
            return asset.import_path == import_path_of(filename)
        return asset.original_filename == original_filename_of(filename)
    if result.status == IngestResult.REJECTED and result.code != "job_closed":
        return ImportIssue.objects.filter(job=job, filename=filename[:512],
                                          reason=result.reason).count() > 1
    return False


def upload_all_arrived(job: ImportJob) -> bool:
    """Whether every file a browser session declared has arrived and been processed (stored
    or refused): what ends it without the page (``_upload_session_end``). A session that
    declared no count only ends by the page's finish or the idle sweep."""
    expected = int((job.options or {}).get(EXPECTED_FILES) or 0)
    return bool(expected) and job.progress_done >= expected


def _positions_by_name(job: ImportJob) -> dict[int, str]:
    """A browser session's files without a position from their names take the free ones in
    name order, whatever order they arrived in (three at a time, a big file last); a lead
    view (front.jpg) first, as in a ZIP (``naming.position_order_name``)."""
    named = [(int(pk), position_order_name(str(name)))
             for pk, name in (job.checkpoint or {}).get("auto", [])]
    return asset_positions_by_name(named=named) if named else {}


def upload_stopped_note(job: ImportJob, why: str = "") -> str:
    """What a browser session's message adds when fewer files arrived than it announced:
    the same words whether the page finished it or the stale-session sweep did."""
    if job.progress_done >= job.progress_total:
        return ""
    return (f" The upload stopped after {job.progress_done} of {job.progress_total} files"
            f"{why}.")


#: Names a finish may list as not sent (network errors, 5xx) or skipped by the browser;
#: more are counted, not listed.
MAX_FINISH_NAMES = 200
NOT_SENT_REASON = ("Not received: the browser could not send this file (network or server "
                   "error); upload it again.")


#: A file the page held back because its preview said the import would refuse it, when the
#: import, asked again at the finish, no longer finds a reason (the options or the catalog
#: changed meanwhile).
HELD_REASON = ("Not sent: the upload page's preview said this file would be refused; upload "
               "it again to import it.")


#: A file the page did not send because its preview found the same bytes stored on the
#: product the file maps to (``stored``) is the import's duplicate (its row leads with
#: ``assets.STORED_SKIPPED_PREFIX``: ``ImportIssue.Lead.NOT_SENT``); it is this error when
#: the server, asked at the finish, finds no such image on that product any more.
STORED_GONE_REASON = ("Not sent: the upload page found this file already stored, but its "
                      "product holds no such image now (deleted or changed meanwhile); "
                      "upload it again.")


#: What the finish's report says of the names of one kind past ``MAX_FINISH_NAMES``: counted,
#: not listed (level, words).
UNLISTED = {
    "failed": (ImportIssue.Level.ERROR, "files the browser could not send (network or "
               "server error) are not listed here; upload them again."),
    "held": (ImportIssue.Level.ERROR, "files the upload page's preview held back as "
             "refused are not listed here."),
    "skipped": (ImportIssue.Level.WARNING, "files the browser skipped by name (not image "
                "files) are not listed here."),
    "stored": (ImportIssue.Level.WARNING, "files the upload page found already stored were "
               "not sent and are not listed here (not checked again)."),
}


def _finish_names_report(job: ImportJob, *, failed: Sequence[str], skipped: Sequence[str],
                         held: Sequence[str] = (),
                         unlisted: Mapping[str, int] | None = None,
                         stored: Mapping[str, str] | None = None
                         ) -> tuple[int, int, int, int]:
    """Issues for files the browser did not send: those it failed to send, those it
    skipped by name, and those its preview refused (``held``: no product for the name, a
    position another image holds). The reasons are the server's own, never the page's
    words: a held file's is asked of the import again (``ImportRun.refusal``). Past
    ``MAX_FINISH_NAMES`` names of a kind, the rest (those given here, and ``unlisted``: kind
    -> how many more the page counted but did not send) are one row, "… and 1,234 more …",
    counted as those files, not as one more. ``stored`` (name -> sha256): files the page did
    not send because its preview found those bytes on the product the name maps to (a file
    for a taken position among them: the import finds the duplicate first); the server
    checks each again (the import's duplicate test, ``ImportRun.held_duplicate``): a
    duplicate, or an error asking to upload it again when no such image is there now.
    Returns (errors, warnings, duplicates, names not listed)."""
    errors = warnings = duplicates = 0
    issues = []
    stored = stored or {}
    run: ImportRun | None = None
    if held or stored:
        run = ImportRun(job)
        if job.manifest_name:
            run.manifest = _manifest_for(job)
    for name, sha in list(stored.items())[:MAX_FINISH_NAMES]:
        assert run is not None
        existing = run.held_duplicate(name, sha)
        if existing is None:
            issues.append(ImportIssue(job=job, filename=name[:512], reason=STORED_GONE_REASON,
                                      level=ImportIssue.Level.ERROR))
            errors += 1
            continue
        lead = ImportIssue.Lead.NOT_SENT
        issues.append(ImportIssue(
            job=job, filename=name[:512],
            reason=duplicate_row_words(lead=lead, sku=existing.product.sku,
                                       position=existing.position, asset_pk=existing.pk)
            + run.position_lost_note(name, existing),
            level=ImportIssue.Level.WARNING, kind=ImportIssue.Kind.DUPLICATE, lead=lead,
            sku=existing.product.sku, position=existing.position, asset_pk=existing.pk))
        duplicates += 1
    if held:
        assert run is not None
        for name in list(held)[:MAX_FINISH_NAMES]:
            issues.append(ImportIssue(job=job, filename=name[:512],
                                      reason=run.refusal(name) or HELD_REASON,
                                      level=ImportIssue.Level.ERROR))
            errors += 1
    for name in list(failed)[:MAX_FINISH_NAMES]:
        issues.append(ImportIssue(job=job, filename=name[:512], reason=NOT_SENT_REASON,
                                  level=ImportIssue.Level.ERROR))
        errors += 1
    manifest_path = session_manifest_path(job)
    for name in list(skipped)[:MAX_FINISH_NAMES]:
        problem = archives.entry_name_problem(name, manifest=manifest_path)
        if problem is None or problem.kind == archives.NAME_IGNORED:
            continue  # an image name or desktop metadata: not a skip the server would make
        level = ImportIssue.Level.WARNING if problem.skipped else ImportIssue.Level.ERROR
        issues.append(ImportIssue(job=job, filename=name[:512], reason=problem.reason,
                                  level=level))
        errors += level == ImportIssue.Level.ERROR
        warnings += level == ImportIssue.Level.WARNING
    # QA: past the first 200 names of a kind the report said nothing of the rest
    not_listed = 0
    for kind, names in (("failed", failed), ("held", held), ("skipped", skipped),
                        ("stored", list(stored))):
        more = (max(0, len(names) - MAX_FINISH_NAMES)
                + max(0, int((unlisted or {}).get(kind, 0))))
        if not more:
            continue
        level, words = UNLISTED[kind]
        issues.append(ImportIssue(job=job, filename="…", level=level,
                                  reason=f"{unlisted_text(more)} {words}"))
        # the row is no error itself: it counts as the files it stands for (QA: a session
        # with 1,234 files past the list said "201 refused")
        errors += more if level == ImportIssue.Level.ERROR else 0
        warnings += more if level == ImportIssue.Level.WARNING else 0
        not_listed += more
    ImportIssue.objects.bulk_create(issues)
    return errors, warnings, duplicates, not_listed


def unlisted_note(count: int) -> str:
    """What a session's message adds when its finish named more files not sent than the
    report lists (``MAX_FINISH_NAMES`` of each kind)."""
    if not count:
        return ""
    return (f" The report names the first {MAX_FINISH_NAMES:,} files of each kind not sent, "
            f"{unlisted_text(count)}.")


def import_job_finish(*, job_id: int, failed: Sequence[str] = (),
                      skipped: Sequence[str] = (), held: Sequence[str] = (),
                      unlisted: Mapping[str, int] | None = None,
                      stored: Mapping[str, str] | None = None) -> ImportJob:
    """The page's end of a browser session. ``failed``: names the browser could not send
    (network errors, 5xx after its retries); ``skipped``: names it did not send because they
    are not image file names; ``held``: names it did not send because its preview said the
    import would refuse them; ``stored``: name -> sha256 of the files it did not send
    because its preview found those bytes on the product the name maps to (checked again
    here: a duplicate, else an error). All are listed in the
    report (at most ``MAX_FINISH_NAMES`` of each; ``unlisted``: kind ("failed", "held",
    "skipped", "stored")
    -> how many more of that kind the page counted but did not name; the report and the
    message say how many were not listed). Files without a position from
    their names are then put in name order (``_positions_by_name``). A session that already
    ended on its own (every declared file arrived) gets the page's names added to its report
    once; a second finish changes nothing."""
    return _upload_session_end(job_id=job_id, page=PageNames(
        failed=failed, skipped=skipped, held=held, unlisted=unlisted, stored=stored))


#: ``ImportJob.options`` key: how many files a browser session declared at its start.
EXPECTED_FILES = "expected_files"
#: ``ImportJob.checkpoint`` keys of a session that ended on its own: the last issue before
#: its missing manifest rows were reported, and how many errors those rows were; the page's
#: late names replace that report (they may name those rows' files).
ENDED_ON_ARRIVAL = "ended_on_arrival"
PAGE_NAMES_DONE = "page_names"


@dataclasses.dataclass(frozen=True)
class PageNames:
    """What the page's finish lists: the files it did not send (``import_job_finish``)."""

    failed: Sequence[str] = ()
    skipped: Sequence[str] = ()
    held: Sequence[str] = ()
    unlisted: Mapping[str, int] | None = None
    stored: Mapping[str, str] | None = None

    def any(self) -> bool:
        return bool(self.failed or self.skipped or self.held or self.stored
                    or any((self.unlisted or {}).values()))

    def names(self) -> list[str]:
        return [*self.failed, *self.skipped, *self.held, *(self.stored or {})]

    def as_json(self) -> dict:
        return {"failed": list(self.failed), "skipped": list(self.skipped),
                "held": list(self.held), "unlisted": dict(self.unlisted or {}),
                "stored": dict(self.stored or {})}

    @classmethod
    def from_json(cls, data: Mapping) -> "PageNames":
        return cls(failed=list(data.get("failed") or ()), skipped=list(data.get("skipped") or ()),
                   held=list(data.get("held") or ()), unlisted=dict(data.get("unlisted") or {}),
                   stored=dict(data.get("stored") or {}))

    def joined(self, later: "PageNames | None") -> "PageNames":
        """These names and ``later``'s (a finish after the start), each name once: a page that
        names a file at both is reported once."""
        return self if later is None else _names_joined(self, later)

    def without(self, earlier: "PageNames") -> "PageNames":
        """These names less those ``earlier`` named (reported already)."""
        return _names_joined(PageNames(), self, known=earlier)


def _names_joined(first: PageNames, second: PageNames, *,
                  known: PageNames | None = None) -> PageNames:
    """``first``'s names, then ``second``'s not among them nor among ``known``'s; the counts
    past the lists (``unlisted``) added up."""
    seen = set(first.names()) | set(known.names() if known is not None else ())
    unlisted = dict(first.unlisted or {})
    for kind, more in (second.unlisted or {}).items():
        unlisted[kind] = unlisted.get(kind, 0) + int(more)
    return PageNames(
        failed=[*first.failed, *(n for n in second.failed if n not in seen)],
        skipped=[*first.skipped, *(n for n in second.skipped if n not in seen)],
        held=[*first.held, *(n for n in second.held if n not in seen)],
        stored={**(first.stored or {}),
                **{n: sha for n, sha in (second.stored or {}).items() if n not in seen}},
        unlisted=unlisted)


#: ``ImportJob.options`` key: the files the page named at a session's start as not to be sent
#: (``import_job_create``'s ``not_sent``, ``PageNames.as_json``).
START_NAMES = "page_start_names"
#: ``ImportJob.checkpoint`` key: how many names past the lists the session's report counted
#: so far (its message says so however often it is written again).
NOT_LISTED = "not_listed"


def _start_names(job: ImportJob) -> PageNames:
    return PageNames.from_json((job.options or {}).get(START_NAMES) or {})


def _upload_session_end(*, job_id: int, page: PageNames | None = None) -> ImportJob:
    """The one place a browser session is finished, by the page (``page``: its finish) or
    on its own once every declared file arrived (``page`` None; ``upload_all_arrived``
    decides). Under the row's lock, and the status changes by compare-and-set, so the last
    file and the page's finish racing (or a finish sent twice) end it once: one report, one
    ``import.finished``. The page's finish after the session ended on its own adds its names
    to the report (once), with the counts and message, and no second event."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job_id)
        checkpoint = dict(job.checkpoint or {})
        late = (page is not None and job.status == JobStatus.DONE
                and ENDED_ON_ARRIVAL in checkpoint and not checkpoint.get(PAGE_NAMES_DONE))
        if job.status == JobStatus.RUNNING:
            if page is None and not upload_all_arrived(job):
                return job
            if not ImportJob.objects.filter(pk=job_id, status=JobStatus.RUNNING).update(
                    status=JobStatus.DONE, finished_at=timezone.now()):
                return ImportJob.objects.get(pk=job_id)
        elif not late:
            return job
        # the names the page gave at the start are reported when the session ends, however
        # it ends (QA38 H1: a tab closed before the finish lost them); a late finish adds its
        # own (the files that failed to send), each name once
        start = _start_names(job)
        report = (page or PageNames()).without(start) if late else start.joined(page)
        errors, warnings, duplicates, not_listed = _finish_names_report(
            job, failed=report.failed, skipped=report.skipped, held=report.held,
            unlisted=report.unlisted, stored=report.stored)
        checkpoint[NOT_LISTED] = int(checkpoint.get(NOT_LISTED) or 0) + not_listed
        if page is not None:
            checkpoint[PAGE_NAMES_DONE] = True
        if late:
            # the rows reported missing when it ended on its own, said again below with the
            # names the page gives (a held file is not "never came")
            ended = checkpoint[ENDED_ON_ARRIVAL]
            if job.manifest_name:
                ImportIssue.objects.filter(job=job, pk__gt=ended["after"],
                                           filename=_manifest_for(job).name[:512]).delete()
            errors -= int(ended["missing"])
            warnings -= int(ended.get("missing_warnings", 0))
        named = [*start.names(), *(page.names() if page is not None else [])]
        if page is None:
            checkpoint[ENDED_ON_ARRIVAL] = {
                "after": ImportIssue.objects.filter(job=job).order_by("-pk")
                .values_list("pk", flat=True).first() or 0,
                "missing": 0}
        missing, missing_warnings = _manifest_rows_missing(job, named)
        if page is None:
            checkpoint[ENDED_ON_ARRIVAL]["missing"] = missing
            checkpoint[ENDED_ON_ARRIVAL]["missing_warnings"] = missing_warnings
        errors += missing
        warnings += missing_warnings
        job.error_count += errors
        job.warning_count += warnings + duplicates
        job.duplicate_count += duplicates
        job.status = JobStatus.DONE
        job.finished_at = job.finished_at or timezone.now()
        job.message = (import_summary(job) + unlisted_note(checkpoint[NOT_LISTED])
                       + upload_stopped_note(job))[:1000]
        job.progress_total = max(job.progress_total, job.progress_done)
        job.checkpoint = checkpoint
        job.save(update_fields=["status", "finished_at", "message", "progress_total",
                                "error_count", "warning_count", "duplicate_count",
                                "checkpoint"])
    if not late:
        _positions_by_name(job)
        _issues_positions_settle(job)
        events.import_finished(job.pk)
    return job


def _issues_positions_settle(job: ImportJob) -> None:
    """A browser session's report rows about its images (a duplicate's stored copy, a stored
    file's warning) say where those images are once the session has put its files in name
    order (``_positions_by_name``) and named files have pushed others aside: the rows were
    written as the files arrived (QA 2026-12-05 L1: "already stored … as PT05" of an image
    at PT04, warning rows at PT04 beside the stored row at PT05), and so does a warning
    naming another image of the session (identical: QA 2026-12-06, "Identical to CP34-A PT01"
    of an image then at MAIN). Words that name a position are composed again from the row's
    parts (``_duplicate_reason_at``: its lead column and the stored copy's;
    ``_identical_reason_at``)."""
    issues = list(ImportIssue.objects.filter(job=job).filter(
        Q(asset_pk__isnull=False) | Q(named_pk__isnull=False)))
    live = dict(ImageAsset.live.filter(
        pk__in={pk for i in issues for pk in (i.asset_pk, i.named_pk) if pk is not None})
        .values_list("pk", "position"))
    stale = []
    for issue in issues:
        # where each image is now; a row's own words where it is gone
        position = live.get(issue.asset_pk or 0, issue.position)
        named = live.get(issue.named_pk or 0, issue.named_position)
        if position == issue.position and named == issue.named_position:
            continue
        if position != issue.position and issue.kind == ImportIssue.Kind.DUPLICATE:
            reason = _duplicate_reason_at(issue, position)
            if reason is None:
                continue  # its words are not its parts': left whole, reason and columns agree
            issue.reason = reason
        if named != issue.named_position:
            reason = _identical_reason_at(issue, named)
            if reason is not None:  # else left whole: its words are not its parts'
                issue.reason, issue.named_position = reason, named
        issue.position = position
        stale.append(issue)
    ImportIssue.objects.bulk_update(stale, ["reason", "position", "named_position"],
                                    batch_size=500)


def _duplicate_reason_at(issue: ImportIssue, position: str) -> str | None:
    """A duplicate row's reason with its stored copy at ``position``, composed from its
    columns (``ImportIssue.lead``, SKU, asset id) as it was written
    (``assets.duplicate_row_words``); None for a row without a lead (written in other words
    before leads were kept), which is left whole."""
    assert issue.asset_pk is not None
    if issue.lead == ImportIssue.Lead.NONE:
        return None
    was = duplicate_row_words(lead=issue.lead, sku=issue.sku, position=issue.position,
                              asset_pk=issue.asset_pk)
    # what follows its own words (``ImportRun.position_lost_note``) names no position of the
    # copy, so it is kept as written
    rest = issue.reason[len(was):] if issue.reason.startswith(was) else ""
    return duplicate_row_words(lead=issue.lead, sku=issue.sku, position=position,
                               asset_pk=issue.asset_pk) + rest


def _identical_reason_at(issue: ImportIssue, position: str) -> str | None:
    """An identical warning's reason with the image it names at ``position``:
    ``identical_words`` of its own columns; None for a row written in other words."""
    assert issue.named_pk is not None
    if issue.reason != identical_words(sku=issue.named_sku, position=issue.named_position,
                                       asset_pk=issue.named_pk, stored_sku=issue.sku):
        return None
    return identical_words(sku=issue.named_sku, position=position, asset_pk=issue.named_pk,
                           stored_sku=issue.sku)


def import_uploads_close_stale(*, idle_seconds: int | None = None) -> int:
    """Finish browser upload sessions that received no file for ``idle_seconds`` (the tab
    was closed): what arrived stays imported, the message says the rest never came."""
    idle = settings.CUTROOM_UPLOAD_IDLE_SECONDS if idle_seconds is None else idle_seconds
    cutoff = timezone.now() - timedelta(seconds=idle)
    stale = ImportJob.objects.filter(source_kind=ImportJob.Source.UPLOAD,
                                     status=JobStatus.RUNNING).filter(
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff))
    closed = 0
    for job in stale:
        note = upload_stopped_note(
            job, f" (no file for {idle // 60 or idle} {'min' if idle >= 60 else 's'}; the page "
            "was probably closed)")
        status = JobStatus.DONE if job.progress_done else JobStatus.FAILED
        message = (import_summary(job) + note) if job.progress_done else (
            "No file arrived; the upload page was probably closed.")
        if ImportJob.objects.filter(
            pk=job.pk, status=JobStatus.RUNNING, heartbeat_at=job.heartbeat_at
        ).update(status=status, finished_at=timezone.now(), message=message[:1000]):
            closed += 1
            _start_names_report(job.pk, note)
            _positions_by_name(job)
            events.import_finished(job.pk)
    return closed


def _start_names_report(job_id: int, note: str) -> None:
    """A session the idle sweep closed or the user cancelled: the files its page named at the
    start as not sent are in its report too (the page never finished it), and its counts say
    so, and a finished one's message (``note``: why it stopped)."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job_id)
        start = _start_names(job)
        if not start.any():
            return
        errors, warnings, duplicates, not_listed = _finish_names_report(
            job, failed=start.failed, skipped=start.skipped, held=start.held,
            unlisted=start.unlisted, stored=start.stored)
        job.error_count += errors
        job.warning_count += warnings + duplicates
        job.duplicate_count += duplicates
        fields = ["error_count", "warning_count", "duplicate_count"]
        if job.status == JobStatus.DONE:
            job.message = (import_summary(job) + unlisted_note(not_listed) + note)[:1000]
            fields.append("message")
        job.save(update_fields=fields)


def import_job_cancel(*, job_id: int) -> bool:
    """Cancel a queued or running job; a running one stops before its next file. A ZIP or
    folder run then reports the files it never reached and announces ``import.finished``
    (``import_runner._import_cancelled``), or the reconciler does when that run died before
    it saw the cancel (``import_runner.import_cancelled_runs_finish``); a queued job (no run
    will come) and a browser session (no run at all: the page stops sending) announce it
    here."""
    job = ImportJob.objects.filter(pk=job_id).only("status", "source_kind").first()
    if job is None:
        return False
    ends_here = (job.status == JobStatus.QUEUED
                 or job.source_kind == ImportJob.Source.UPLOAD)
    cancelled = bool(
        ImportJob.objects.filter(pk=job_id, status=job.status,
                                 status__in=[JobStatus.QUEUED, JobStatus.RUNNING]
                                 ).update(status=JobStatus.CANCELLED, finished_at=timezone.now(),
                                          message=import_runner.CANCEL_MESSAGE,
                                          # no run will finish it: nor will the reconciler
                                          **({"run_token": ""} if ends_here else {}))
    )
    if not cancelled and job.status == JobStatus.QUEUED:
        # claimed by a run meanwhile: cancel that run instead, which announces the end
        return import_job_cancel(job_id=job_id)
    if cancelled and job.source_kind == ImportJob.Source.UPLOAD:
        # the files its page named at the start as not sent are in the report as for any end
        _start_names_report(job_id, "")
        _upload_session_cancelled_message(job_id)
    if cancelled and ends_here:
        events.import_finished(job_id)
    return cancelled


def _upload_session_cancelled_message(job_id: int) -> None:
    """A cancelled browser session says how far it got as a cancelled ZIP does: the files it
    announced that had not arrived are "not imported" (those the page still sends get a row
    each, ``_upload_after_cancel``)."""
    job = ImportJob.objects.only("progress_done", "progress_total", "options").get(pk=job_id)
    expected = int((job.options or {}).get(EXPECTED_FILES) or 0)
    total = max(expected, job.progress_total, job.progress_done)
    ImportJob.objects.filter(pk=job_id, status=JobStatus.CANCELLED).update(
        message=import_runner.cancelled_message(done=job.progress_done, total=total),
        progress_total=total)


def _upload_after_cancel(job: ImportJob, filename: str) -> None:
    """A file the page sent after its session was cancelled: one "not imported" row in the
    report (the ZIP cancel's words), once per name, however often the page retries it."""
    name = filename[:512]
    if not ImportIssue.objects.filter(job=job, filename=name,
                                      kind=ImportIssue.Kind.NOT_IMPORTED).exists():
        ImportIssue.objects.create(job=job, filename=name,
                                   reason=import_runner.CANCELLED_REASON,
                                   level=ImportIssue.Level.ERROR,
                                   kind=ImportIssue.Kind.NOT_IMPORTED)


def import_job_fail(*, job_id: int, message: str) -> bool:
    """Fail a running import (a time limit, an operator); its files so far stay imported."""
    if jobs.job_fail(ImportJob, job_id, None, message):
        events.import_finished(job_id)
        return True
    return False


def _import_kind() -> jobs.JobKind:
    # Registered when this module is imported (the app config does so at start-up).
    return jobs.JobKind(
        name="import", model=ImportJob, enqueue=catalog_enqueue.import_jobs_send,
        # Browser sessions have no task: the stale-session sweep closes them instead.
        scope=~Q(source_kind=ImportJob.Source.UPLOAD),
        run_limit=lambda job: settings.CUTROOM_IMPORT_TIME_LIMIT,
        # and ZIP/folder runs that died after a cancel, before they saw it
        sweep=lambda: (import_uploads_close_stale()
                       + import_runner.import_cancelled_runs_finish()),
        # a run whose worker died on every attempt: name its file, report the rest, announce
        on_give_up=import_runner.import_dead_run_fail,
    )


jobs.job_kind_register(_import_kind())
