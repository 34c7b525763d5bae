"""Running a queued ZIP or folder import to the end, resumably from its checkpoint after a
worker died."""

import itertools
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .. import events, jobs
from ..errors import StorageDownError
from ..ingest import archives
from ..ingest.manifest import Manifest, ManifestError
from ..ingest.naming import NamingError
from ..models import ImportIssue, ImportJob, JobStatus
from .assets import storage_default
from .import_mapping import (
    MISSING_FROM,
    ImportRun,
    import_order_key,
    import_summary,
    manifest_display_name,
    manifest_missing_text,
    manifest_parse,
    manifest_refusals_kept,
    unlisted_text,
)

#: What a cancel writes (``imports.import_job_cancel``); a run that sees it replaces it with
#: how far it got (``cancelled_message``).
CANCEL_MESSAGE = "Cancelled."

logger = logging.getLogger(__name__)


def archive_limits() -> archives.ArchiveLimits:
    return archives.ArchiveLimits(
        max_entry_bytes=settings.CUTROOM_MAX_FILE_BYTES,
        max_total_bytes=settings.CUTROOM_MAX_ZIP_TOTAL_BYTES,
        max_ratio=settings.CUTROOM_MAX_ZIP_RATIO,
    )


def _open_source(job: ImportJob):
    limits = archive_limits()
    if job.source_kind == ImportJob.Source.FOLDER:
        return archives.FolderSource(job.source_path, limits=limits), None
    if job.source_path:
        handle = open(job.source_path, "rb")  # noqa: SIM115 - the caller closes it
    else:
        handle = storage_default().open(job.source_name, "rb")
    try:
        return archives.ZipSource(handle, limits=limits), handle
    except archives.ArchiveError:
        handle.close()
        raise


def import_job_run(*, job_id: int, progress: Callable | None = None, worker: str = "",
                   interrupts: tuple[type[BaseException], ...] = ()) -> ImportJob | None:
    """Run a queued ZIP/folder import to the end. Returns None if another run owns it.

    A run that follows one whose worker died resumes from the job's checkpoint: the manifest
    is not applied twice, files before the checkpoint are skipped, and the file the dead run
    was busy with is done again without counting it twice.

    ``progress(done=, total=)`` and ``progress(issue=(name, reason, level))`` feed a terminal
    progress bar; the UI polls the row instead.

    Any other error fails the job with its reason, except ``interrupts``: those (a task's
    time limit) are raised to the caller once the counters so far are saved, and the caller
    fails the job.
    """
    token = jobs.job_claim(ImportJob, job_id, worker=worker)
    if token is None:
        return None
    # beating on after a cancel, until the run finished it: the reconciler finishes only
    # cancelled runs that died (``import_cancelled_runs_finish``)
    with jobs.job_heartbeat(ImportJob, job_id, token, while_cancelled=True):
        _import_job_execute(job_id, token, progress, interrupts)
    return ImportJob.objects.get(pk=job_id)


def _import_job_execute(job_id: int, token: str, progress: Callable | None,
                        interrupts: tuple[type[BaseException], ...]) -> None:
    job = ImportJob.objects.get(pk=job_id)
    run = ImportRun(job, progress=progress)
    checkpoint = dict(job.checkpoint or {})
    start = int(checkpoint.get("next", 0))
    if checkpoint:
        # What the dead run wrote after its last checkpoint is redone below.
        ImportIssue.objects.filter(job=job, pk__gt=checkpoint.get("issues", 0)).delete()
    run.last_issue_id = int(checkpoint.get("issues", 0))
    user = job.created_by
    source = handle = None
    try:
        source, handle = _open_source(job)
        manifest_name = _manifest_name(job, source)
        manifest = _manifest_read(job, source)
        if manifest is not None:
            if checkpoint.get("manifest"):
                run.manifest = manifest
                # a run that died before its report of missing files: that report still
                # gives refused rows their refusal (QA: they became bare warnings)
                run.manifest_refusals = dict(checkpoint.get("refused") or {})
            else:
                run.apply_manifest(manifest)
                checkpoint.update(manifest=True, issues=run.last_issue_id,
                                  **manifest_refusals_kept(run, manifest))
                if not jobs.job_progress(ImportJob, job_id, token, checkpoint=checkpoint,
                                         **run.counters()):
                    return
        entries = source.entries()
        if manifest is not None:
            # every row matched to all the entries at once: a row naming a base name that
            # several folders hold goes to none of them (``Manifest.bind``)
            manifest.bind(entry.name for entry in entries)
        entries = _run_order(entries, manifest, checkpoint)
        total = len(entries)
        if manifest is not None and not checkpoint.get("unmatched"):
            _manifest_unmatched_report(run, manifest, entries, source.kind)
            checkpoint.update(unmatched=True, issues=run.last_issue_id)
            # only that report reads them: not rewritten with every file's checkpoint
            checkpoint.pop("refused", None)
            checkpoint.pop("refused_more", None)
        if not jobs.job_progress(ImportJob, job_id, token, progress_total=total,
                                 checkpoint=checkpoint, **run.counters()):
            _import_cancelled(job_id, token, run, entries[start:], done=start, total=total)
            return
        if progress:
            progress(done=start, total=total)
        # A dead run was busy with entry ``start`` (the first one too) since ``at``.
        resumed = "next" in checkpoint
        since = _checkpoint_time(checkpoint)
        for done in range(start, total):
            entry = entries[done]
            # Progress, checkpoint and the cancel check share one compare-and-set before each
            # file, so a cancel takes effect before the next file rather than after it.
            # ``at``: a run resumed at this entry finds what the dead run replaced for it by
            # the deletions made since (``ImportRun._replaced_before_resume``)
            checkpoint.update(next=done, issues=run.last_issue_id,
                              at=timezone.now().isoformat())
            if not jobs.job_progress(ImportJob, job_id, token, progress_done=done,
                                     checkpoint=checkpoint, **run.counters()):
                _import_cancelled(job_id, token, run, entries[done:], done=done, total=total)
                return
            run.resumed_name = entry.name if (done == start and resumed) else ""
            run.resumed_since = since if run.resumed_name else None
            _import_entry(run, source, entry, user)
            if progress:
                progress(done=done + 1, total=total)
        checkpoint.update(next=total, issues=run.last_issue_id)
        if jobs.job_finish(ImportJob, job_id, token, message=import_summary(run.job),
                           progress_done=total, checkpoint=checkpoint, **run.counters()):
            events.import_finished(job_id)
    except ManifestError as exc:
        # the message keeps the first lines (1000 characters); the report has the first
        # MANIFEST_ISSUES_KEPT, one row each, and counts the rest (a manifest of 100 000 bad
        # lines is one mistake, not 100 000 inserts): the job's error count is the bad lines,
        # the "… and N more" row counts as the N it stands for, not as one more error
        for error in exc.errors[:MANIFEST_ISSUES_KEPT]:
            run.issue(manifest_name, error[:1].upper() + error[1:], ImportIssue.Level.ERROR)
        more = len(exc.errors) - MANIFEST_ISSUES_KEPT
        if more > 0:
            run.issue(manifest_name, f"{unlisted_text(more)} bad lines like these.",
                      ImportIssue.Level.ERROR, counts=more)
        _import_fail(job_id, token, str(exc), run)
    except (archives.ArchiveError, NamingError, StorageDownError) as exc:
        _import_fail(job_id, token, str(exc), run)
    except Exception as exc:
        if isinstance(exc, interrupts):
            jobs.job_progress(ImportJob, job_id, token, **run.counters())
            raise
        logger.exception("import job %s failed", job_id)
        _import_fail(job_id, token,
                     f"Import failed unexpectedly ({type(exc).__name__}: {exc}).", run)
    finally:
        if source is not None:
            source.close()
        if handle is not None:
            handle.close()


#: a checkpoint's file order: manifest-positioned files first (``manifest_positions_first``)
ORDER_MANIFEST_FIRST = "manifest-first"
#: bad manifest lines the import report lists one per row
MANIFEST_ISSUES_KEPT = 1000


def manifest_positions_first(entries: list[archives.Entry], manifest: Manifest
                             ) -> list[archives.Entry]:
    """The entries a manifest row gives a position first, then the rest, each in name order:
    a manifest row beats every naming rule, so on a position tie with a file named
    ``SKU_MAIN.jpg`` the row's file takes it and the named one is refused as taken. The
    order depends only on the entries and the manifest, so a resumed run sees it again."""
    return sorted(entries, key=lambda entry: import_order_key(entry.name, manifest))


def _manifest_name(job: ImportJob, source) -> str:
    """The name the report gives the import's manifest: the one sent beside the ZIP, else
    its path in the ZIP or folder (``shoot/manifest.csv``)."""
    if job.manifest_name:
        return job.options.get("manifest_filename", archives.MANIFEST_NAME)
    return manifest_display_name(path=source.manifest_name)


def _manifest_read(job: ImportJob, source) -> Manifest | None:
    """The import's manifest (sent beside the ZIP, else the one inside), parsed; None when
    there is none. Raises ManifestError for a manifest that cannot be used."""
    if job.manifest_name:
        with storage_default().open(job.manifest_name, "rb") as manifest_handle:
            manifest_bytes = manifest_handle.read()
    else:
        manifest_bytes = source.manifest()
    if manifest_bytes is None:
        return None
    return manifest_parse(manifest_bytes, encoding=job.options.get("encoding", "utf-8"),
                          name=_manifest_name(job, source))


def _run_order(entries: list[archives.Entry], manifest: Manifest | None,
               checkpoint: dict) -> list[archives.Entry]:
    """The entries in the order the run takes them (its checkpoint's ``next`` counts in it);
    notes that order in ``checkpoint``."""
    # a run checkpointed before manifest-first order existed resumes in its name order,
    # or its "next" would skip some files and redo others
    if manifest is not None and (checkpoint.get("order") == ORDER_MANIFEST_FIRST
                                 or "next" not in checkpoint):
        checkpoint["order"] = ORDER_MANIFEST_FIRST
        return manifest_positions_first(entries, manifest)
    return entries


def _checkpoint_time(checkpoint: dict) -> datetime | None:
    try:
        return datetime.fromisoformat(checkpoint["at"])
    except (KeyError, TypeError, ValueError):
        return None


def _manifest_unmatched_report(run: ImportRun, manifest: Manifest,
                               entries: list[archives.Entry], kind: str) -> None:
    """A warning per manifest row whose file is not in the ZIP or folder: such a row would
    otherwise be silently unused (a typo in a file name, a photo left out of the ZIP). A row
    whose product the manifest step refused (``ImportRun.manifest_refusals``) is an error with
    both reasons: no file of it is there to carry the refusal to the report."""
    where = MISSING_FROM["folder" if kind == "folder" else "zip"]
    for row in manifest.unmatched(entry.name for entry in entries):
        refusal = run.manifest_refusals.get(row.sku, "")
        run.issue(manifest.name, manifest_missing_text(row, where=where, refusal=refusal),
                  ImportIssue.Level.ERROR if refusal else ImportIssue.Level.WARNING, row=row)


def _import_entry(run: ImportRun, source, entry: archives.Entry, user) -> None:
    if entry.problem:
        level = ImportIssue.Level.WARNING if entry.skipped else ImportIssue.Level.ERROR
        run.issue(entry.name, entry.problem, level, row=run.manifest_row(entry.name))
        return
    try:
        fileobj = source.open(entry)
    except archives.ArchiveError as exc:
        run.issue(entry.name, str(exc), ImportIssue.Level.ERROR, row=run.manifest_row(entry.name))
        return
    with fileobj:
        run.ingest(entry.name, fileobj, user)


#: The report's reason for a file a cancelled import never reached.
CANCELLED_REASON = "Not imported: the import was cancelled before this file."
CANCELLED_ISSUES_CHUNK = 1000


def cancelled_message(*, done: int, total: int) -> str:
    """A cancelled import's message: how far it got, so nobody takes the files it never
    reached for imported."""
    return f"Cancelled after {done:,} of {total:,} files; {total - done:,} not imported."


def _import_cancelled(job_id: int, token: str, run: ImportRun | None,
                      remaining: list[archives.Entry], *, done: int, total: int,
                      issues_after: int | None = None, announce: bool = True) -> bool:
    """The run found its job cancelled before entry ``done``: the files it never reached
    go in the report (one error row each, "not imported", not counted as refused: nothing
    was wrong with them), the message says how far it got, and ``import.finished`` tells an
    API client waiting for the end. Only for a job that is cancelled and still carries this
    run's ``token``, which it clears: so it happens once, whether the run itself or the
    reconciler (``import_cancelled_runs_finish``: the run died after the cancel; ``run``
    None, the counters are those it last saved, and what it wrote after its checkpoint,
    issues past ``issues_after``, is dropped: that entry is reported not imported) gets
    there first. A run that lost its row to a takeover (``jobs.job_progress`` False too)
    leaves it to the new run. ``announce`` False: finished without the event (the
    reconciler's end of an import cancelled long ago)."""
    with transaction.atomic():
        if not ImportJob.objects.filter(
                pk=job_id, status=JobStatus.CANCELLED, run_token=token).exclude(
                run_token="").update(run_token="", progress_done=done,
                                     message=cancelled_message(done=done, total=total),
                                     **(run.counters() if run is not None else {})):
            return False
        _unreached_report(job_id, remaining, CANCELLED_REASON, issues_after=issues_after)
        if announce:
            events.import_finished(job_id)  # sent on commit
    return True


def _unreached_report(job_id: int, remaining: list[archives.Entry], reason: str, *,
                      issues_after: int | None, first_reason: str = "") -> None:
    """One "not imported" error row per file a run never finished (not counted as refused:
    nothing was wrong with them), for a cancel and a run given up alike; ``first_reason``
    for the first of them (the file a dead run was on). What the run wrote after its last
    checkpoint (issues past ``issues_after``) is dropped: that file is reported here."""
    if issues_after is not None:
        ImportIssue.objects.filter(job_id=job_id, pk__gt=issues_after).delete()
    issues = (ImportIssue(job_id=job_id, filename=entry.name[:512],
                          reason=(first_reason or reason) if i == 0 else reason,
                          level=ImportIssue.Level.ERROR, kind=ImportIssue.Kind.NOT_IMPORTED)
              for i, entry in enumerate(remaining))
    while batch := list(itertools.islice(issues, CANCELLED_ISSUES_CHUNK)):
        ImportIssue.objects.bulk_create(batch)


def _dead_run_position(job: ImportJob) -> tuple[int, list[archives.Entry], int, int]:
    """Where a run that died stood, from its checkpoint: the index of the file it was on,
    the files from there on in the run's order, how many in all, and its last issue id."""
    checkpoint = dict(job.checkpoint or {})
    done = int(checkpoint.get("next", job.progress_done) or 0)
    remaining: list[archives.Entry] = []
    total = job.progress_total
    try:
        remaining, total = _entries_from(job, checkpoint, done)
    except Exception:  # an unreadable source: the end is still announced
        logger.warning("import %s: cannot list the files its dead run never reached",
                       job.pk, exc_info=True)
    return done, remaining, max(total, done), int(checkpoint.get("issues", 0))


#: the report's reasons for the files of an import given up after its worker kept dying
GAVE_UP_REASON = "Not imported: the import failed before this file."
GAVE_UP_CULPRIT = ("Not imported: {reason} while importing this file. It may be too large "
                   "or damaged: import it on its own, or leave it out.")


def import_dead_run_fail(job: ImportJob, reason: str) -> bool:
    """The import kind's ``on_give_up`` (``jobs.JobKind``): its worker died on every attempt,
    most likely on one file (one that runs it out of memory). Fails it as a cancel ends
    (``_import_cancelled``): the message names the file its checkpoint says the run was on
    and how far it got, that file and every one after it get a "not imported" row, and
    ``import.finished`` is sent (status failed). One compare-and-set on the dead run's token,
    so it happens once. False when the row moved on meanwhile."""
    done, remaining, total, issues_after = _dead_run_position(job)
    # no checkpointed file: it died opening the source or applying the manifest
    at = remaining[0].name if remaining and "next" in (job.checkpoint or {}) else ""
    where = (f" while importing {at} — too large or damaged? Import the others without it"
             if at else "")
    message = (f"Failed after {done:,} of {total:,} files; {total - done:,} not imported: "
               f"{reason}{where}.")
    with transaction.atomic():
        if not jobs.job_fail(ImportJob, job.pk, job.run_token, message, attempts=1,
                             progress_done=done):
            return False
        _unreached_report(job.pk, remaining, GAVE_UP_REASON, issues_after=issues_after,
                          first_reason=GAVE_UP_CULPRIT.format(reason=reason) if at else "")
        events.import_finished(job.pk)  # sent on commit
    return True


def import_cancelled_runs_finish(*, grace_seconds: int | None = None) -> int:
    """The reconciler's end of ZIP/folder imports cancelled while running whose run died
    before it saw the cancel (QA: such an import never sent ``import.finished``): once its
    heartbeat is older than the reconciler's grace (a run stops beating once cancelled, and
    sees the cancel before its next file), or its worker is gone from this host, it is
    finished as the run would have: the files it never reached (from its checkpoint, in the
    run's order) are reported "not imported", the message says how far it got, and
    ``import.finished`` is sent, once (``_import_cancelled``). Returns how many.

    The event only for an import cancelled within the reconciler's stale-run window (the
    import's run limit plus the grace: ``jobs._dead_rows``' test for a dead run), the
    longest a reconciler that runs takes to find such a run. One cancelled before that
    was left while no reconciler finished it (cancelled before this sweep was deployed, or
    with beat down for longer): it is finished the same, without the event. Its client
    stopped waiting long ago, and a late ``import.finished`` would start its follow-up work
    (fetch the report, notify people) on an import long over; the import's page and its
    report say how it ended."""
    grace = timedelta(seconds=settings.CUTROOM_RECONCILE_GRACE if grace_seconds is None
                      else grace_seconds)
    now = timezone.now()
    cutoff = now - grace
    announce_since = now - grace - timedelta(seconds=settings.CUTROOM_IMPORT_TIME_LIMIT)
    # a run's token stays on the row until the run (or this) finished the cancel; a row
    # cancelled while queued has none. The message check spares rows finished before the
    # token was cleared (the run wrote "Cancelled after …").
    rows = (ImportJob.objects.filter(status=JobStatus.CANCELLED, message=CANCEL_MESSAGE)
            .exclude(source_kind=ImportJob.Source.UPLOAD).exclude(run_token=""))
    finished = 0
    for job in rows:
        if not (job.heartbeat_at is None or job.heartbeat_at < cutoff
                or jobs.owner_dead_here(job.worker)):
            continue
        done, remaining, total, issues_after = _dead_run_position(job)
        # the cancel set finished_at (``imports.import_job_cancel``)
        cancelled_at = job.finished_at or job.heartbeat_at
        announce = cancelled_at is not None and cancelled_at >= announce_since
        if _import_cancelled(job.pk, job.run_token, None, remaining, done=done,
                             total=total, issues_after=issues_after, announce=announce):
            finished += 1
            if not announce:
                logger.info("import %s, cancelled %s, finished without import.finished: "
                            "cancelled before the reconciler's window", job.pk,
                            cancelled_at.isoformat() if cancelled_at else "at an unknown time")
    return finished


def _entries_from(job: ImportJob, checkpoint: dict, done: int
                  ) -> tuple[list[archives.Entry], int]:
    """The entries of ``job``'s source from index ``done`` of the run's order, and how many
    there are in all."""
    source, handle = _open_source(job)
    try:
        entries = _run_order(source.entries(), _manifest_read(job, source), checkpoint)
        return entries[done:], len(entries)
    finally:
        source.close()
        if handle is not None:
            handle.close()


def _import_fail(job_id: int, token: str, message: str, run: ImportRun) -> None:
    if jobs.job_fail(ImportJob, job_id, token, message, **run.counters()):
        events.import_finished(job_id)
