"""Review reads: the queue (filters, riskiest first, keyset neighbours for next/previous),
the card, the retouch queue and an asset's audit trail. Query counts do not depend on the
page size: related rows come in through joins, never per row."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urlencode

from django.db.models import Exists, Max, OuterRef, Q, QuerySet, Subquery, TextField
from django.db.models.functions import Cast

from catalog.ids import id_from
from catalog.ingest.numbers import digits_from

from ..errors import ReviewInputError
from ..imaging.settings import PROFILES
from ..models import (
    CUTOUT_LIVE,
    Cutout,
    CutoutBatch,
    CutoutQueue,
    JobStatus,
    ReviewDecision,
    ReviewStatus,
)
from ..strengths import strength_of


def cutouts_approved_current() -> QuerySet[Cutout]:
    """The version of each live asset that export uses: approved and current."""
    return Cutout.objects.filter(
        CUTOUT_LIVE, is_current=True, review_status=ReviewStatus.APPROVED,
        status=JobStatus.DONE,
    ).select_related("asset", "asset__product")


def cutouts_missing_signals(*, keys: Sequence[str]) -> list[int]:
    """The ids of the finished versions whose signals lack any of ``keys`` (made before those
    measures existed: ``services.backfill``), or whose faint mark lacks its deepest pixel
    (``at``, since 2026-12-05; ``backfill._lacks_point``), oldest first."""
    missing = Q()
    for key in keys:
        missing |= ~Q(signals__has_key=key)
    if "faint_marks" in keys:
        missing |= (Q(signals__faint_marks__has_key="box")
                    & ~Q(signals__faint_marks__has_key="at"))
    return list(Cutout.objects.filter(missing, status=JobStatus.DONE).order_by("pk")
                .values_list("pk", flat=True))


@dataclass(frozen=True)
class QueueFilters:
    product: str = ""  # SKU (exact) or product id
    batch: int | None = None
    brand: str = ""
    model: str = ""
    preflag: str = ""

    FIELDS = ("product", "batch", "brand", "model", "preflag")

    @classmethod
    def from_query(cls, data) -> QueueFilters:
        batch = (data.get("batch") or "").strip()
        return cls(
            product=(data.get("product") or "").strip()[:64],
            batch=id_from(batch),
            brand=(data.get("brand") or "").strip()[:120],
            model=(data.get("model") or "").strip()[:60],
            preflag=(data.get("preflag") or "").strip()[:40],
        )

    def querystring(self) -> str:
        pairs = [(name, getattr(self, name)) for name in self.FIELDS]
        return urlencode([(k, v) for k, v in pairs if v not in ("", None)])

    @property
    def active(self) -> bool:
        return bool(self.querystring())


def _filtered(rows: QuerySet[Cutout], filters: QueueFilters) -> QuerySet[Cutout]:
    if filters.product:
        # what a reviewer types: the start of a SKU in any case ("qa-shoe" finds QA-SHOE-1),
        # or a product id
        sku = Q(asset__product__sku__istartswith=filters.product)
        product_id = id_from(filters.product)
        if product_id is not None:
            rows = rows.filter(Q(asset__product_id=product_id) | sku)
        else:
            rows = rows.filter(sku)
    if filters.batch:
        rows = rows.filter(batch_id=filters.batch)
    if filters.brand:
        rows = rows.filter(asset__product__brand=filters.brand)
    if filters.model:
        rows = rows.filter(model_name=filters.model)
    if filters.preflag:
        rows = cutouts_with_preflag(rows, preflag=filters.preflag)
    return rows


def cutouts_with_preflag(rows: QuerySet[Cutout], *, preflag: str) -> QuerySet[Cutout]:
    """The rows whose ``preflags`` list holds ``preflag`` (the review queue's filter and the
    API's): JSON list membership as text, the same on SQLite and PostgreSQL."""
    return rows.annotate(_preflags=Cast("preflags", TextField())).filter(
        _preflags__contains=f'"{preflag}"')


def _live(rows: QuerySet[Cutout]) -> QuerySet[Cutout]:
    return rows.filter(CUTOUT_LIVE)


def _awaiting() -> QuerySet[Cutout]:
    return Cutout.objects.filter(status=JobStatus.DONE, review_status=ReviewStatus.PENDING)


def review_queue(*, filters: QueueFilters | None = None) -> QuerySet[Cutout]:
    """One row per image: its newest finished version awaiting review (older waiting versions
    are reached from the card), riskiest first (ties: oldest first)."""
    # NOT EXISTS probes the (asset, version) unique index once per scanned row, so a page
    # still reads the risk index in order and stops after one page.
    newer = _awaiting().filter(asset_id=OuterRef("asset_id"), version__gt=OuterRef("version"))
    rows = _live(_awaiting().filter(~Exists(newer)))
    return _filtered(rows, filters or QueueFilters()).order_by("-risk", "pk")


def review_queue_count(*, filters: QueueFilters | None = None, cap: int | None = None) -> int:
    """Images waiting in the review queue (what the queue and the dashboard both show);
    ``cap`` stops counting early."""
    qs = review_queue(filters=filters).order_by()
    return (qs[:cap] if cap else qs).count()


def review_queue_coming(*, filters: QueueFilters | None = None) -> int:
    """Cutouts still queued or running (the rows, not Celery): they join the review queue when
    done, so the queue says how many more are coming (QA 2026-12-06: "6 awaiting review"
    while batches still ran 5 more read as the whole day's work). Pre-flags are known only
    once a cutout is done, so a pre-flag filter counts none."""
    rows = _live(Cutout.objects.filter(status__in=(JobStatus.QUEUED, JobStatus.RUNNING)))
    return _filtered(rows, filters or QueueFilters()).order_by().count()


COUNT_CAP = 1000


@dataclass
class QueuePage:
    rows: list[Cutout]
    page: int
    per_page: int
    has_next: bool
    total: int  # exact up to COUNT_CAP
    total_capped: bool = False

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def _queue_page(rows: QuerySet[Cutout], *, page: int, per_page: int,
                count: Callable[[int], int]) -> QueuePage:
    """Page ``page`` of the ordered ``rows``; ``count(cap)`` counts them up to ``cap``, asked
    only when the page does not tell the total. Counting every waiting row joins 20,000 rows
    to check the asset is live (~100 ms); nobody needs more than "1000+" to plan their day."""
    page = max(1, page)
    per_page = max(1, min(per_page, 200))
    got = list(rows[(page - 1) * per_page: page * per_page + 1])
    has_next = len(got) > per_page
    if not has_next and (got or page == 1):
        total = (page - 1) * per_page + len(got)  # the last page tells the total for free
    else:
        total = count(COUNT_CAP + 1)
        if not got:
            # A page past the last (an old link once the queue shrank, a typed number) is the
            # last, as the export's contact sheet does: an empty page said "6 flagged for
            # retouch" over "Nothing is flagged for retouch." (QA 2026-12-06, qa41a)
            page = max(1, -(-total // per_page))
            got = list(rows[(page - 1) * per_page: page * per_page + 1]) if total else []
            has_next = len(got) > per_page
    return QueuePage(rows=got[:per_page], page=page, per_page=per_page,
                     has_next=has_next, total=min(total, COUNT_CAP),
                     total_capped=total > COUNT_CAP)


def review_queue_page(*, filters: QueueFilters | None = None, page: int = 1,
                      per_page: int = 50) -> QueuePage:
    rows = review_queue(filters=filters).select_related("asset", "asset__product", "batch").only(
        "pk", "version", "review_status", "risk", "preflags", "model_name", "source", "width",
        "height", "created_at", "finished_at", "batch__label", "batch__id",
        "asset__id", "asset__position", "asset__sha256", "asset__working_width",
        "asset__working_height", "asset__original_filename",
        "asset__product__id", "asset__product__sku", "asset__product__title",
        "asset__product__brand")
    return _queue_page(rows, page=page, per_page=per_page,
                       count=lambda cap: review_queue_count(filters=filters, cap=cap))


def review_grid_tiles(*, rows: list[Cutout]) -> list[tuple[Cutout, str]]:
    """The grid's tiles (a queue page's rows, all awaiting review), each with the ``seen``
    its checkbox sends: the card's token (status, the image's review revision and newest
    version number as drawn), so a bulk approval refuses a tile whose image another
    reviewer decided on or got a newer version since, as its card would (two queries for
    the page)."""
    assets = {c.asset_id for c in rows}
    newest = dict(Cutout.objects.filter(asset_id__in=assets)
                  .values("asset_id").annotate(newest=Max("version")).order_by()
                  .values_list("asset_id", "newest"))
    revisions = dict(ReviewDecision.objects
                     .filter(asset_id__in=assets, action__in=DECIDING_ACTIONS)
                     .values("asset_id").annotate(revision=Max("pk")).order_by()
                     .values_list("asset_id", "revision"))
    return [(c, Seen.of(c, revision=revisions.get(c.asset_id, 0),
                        newest=newest.get(c.asset_id, c.version)).token()) for c in rows]


def review_queue_first(*, filters: QueueFilters | None = None,
                       exclude: int | None = None) -> int | None:
    """The first card of the queue (``exclude``: a card left out, the one just decided)."""
    rows = review_queue(filters=filters)
    if exclude is not None:
        rows = rows.exclude(pk=exclude)
    return rows.values_list("pk", flat=True).first()


@dataclass(frozen=True)
class Neighbours:
    previous_id: int | None
    next_id: int | None
    position: int | None = None  # 1-based place in the queue, None when not in it


def review_neighbours(*, cutout: Cutout, filters: QueueFilters | None = None) -> Neighbours:
    """Keyset neighbours in queue order (-risk, pk): two index range reads, whatever the
    queue length, and they still work when ``cutout`` itself just left the queue."""
    qs = review_queue(filters=filters)
    # "risk <= r AND NOT (risk = r AND pk <= id)" rather than "risk < r OR (...)": the OR
    # form makes SQLite merge two index scans and sort them (100 ms at 20,000 rows); this
    # one is a single ordered range scan that stops at the first row.
    after = Q(risk__lte=cutout.risk) & ~Q(risk=cutout.risk, pk__lte=cutout.pk)
    before = Q(risk__gte=cutout.risk) & ~Q(risk=cutout.risk, pk__gte=cutout.pk)
    next_id = qs.filter(after).values_list("pk", flat=True).first()
    previous_id = (qs.filter(before).order_by("risk", "-pk").values_list("pk", flat=True)
                   .first())
    return Neighbours(previous_id=previous_id, next_id=next_id)


@dataclass(frozen=True)
class VersionState:
    """How one version of an image is labelled wherever versions are listed."""

    key: str  # awaiting_review, approved, needs_retouch, superseded, or the job status
    label: str
    current: bool  # what the image shows now: the chosen version, else the newest finished one
    can_choose: bool  # "Choose" makes it the current, approved version
    chosen: bool = False  # approved or chosen: Cutout.is_current, the API's is_current

    @property
    def chip(self) -> str:
        """The status chip class (templates/partials/status_chip.html)."""
        return f"version-{self.key}"

    @property
    def mark(self) -> str:
        """The badge beside the state, if any. "current" means what the API's is_current
        means, the approved or chosen version export ships; the newest finished version,
        shown while none is, is marked "newest" so a pending one never reads as current;
        one a re-run or retouch is replacing says so in its label ("newest finished")."""
        if not self.current or self.key == "superseded":
            return ""
        return "current" if self.chosen else "newest"


_REVIEW_STATE: dict[str, tuple[str, str]] = {
    ReviewStatus.PENDING: ("awaiting_review", "awaiting review"),
    ReviewStatus.APPROVED: ("approved", "approved"),
    ReviewStatus.FLAGGED: ("needs_retouch", "needs retouch"),
    ReviewStatus.SUPERSEDED: ("superseded", "superseded"),
}


def current_version_id(versions: list[Cutout]) -> int | None:
    """The version an image shows: the chosen (approved) one, else its newest finished one."""
    chosen = next((v for v in versions if v.is_current), None)
    if chosen is not None:
        return chosen.pk
    finished = [v for v in versions if v.status == JobStatus.DONE]
    return max(finished, key=lambda v: v.version).pk if finished else None


def version_state(version: Cutout, *, current_id: int | None) -> VersionState:
    """The one definition of a version's badges. A chosen version is never "superseded"
    (choosing it is an approval), and only a finished version that is not current can be
    chosen: on the current one the card offers Approve instead."""
    current = version.pk == current_id
    if version.is_unchanged:
        # a retouch that changed nothing: not "cancelled", nobody stopped it
        return VersionState(key="unchanged", label="unchanged, not kept", current=False,
                            can_choose=False)
    if version.status != JobStatus.DONE:
        return VersionState(key=version.status, label=version.get_status_display().lower(),
                            current=False, can_choose=False)
    key, label = _REVIEW_STATE.get(version.review_status, ("awaiting_review", "awaiting review"))
    if current and key == "superseded":
        if version.is_current:
            key, label = "approved", "approved"
        else:
            # shown only because the re-run or retouch that replaces it has not finished: it
            # read "replaced by a newer run" beside a "newest" badge while v2 was queued
            label = "newest finished"
    return VersionState(key=key, label=label, current=current, can_choose=not current,
                        chosen=version.is_current)


def version_states(versions: list[Cutout]) -> list[tuple[Cutout, VersionState]]:
    current_id = current_version_id(versions)
    return [(v, version_state(v, current_id=current_id)) for v in versions]


#: decisions that settle an image's versions (which is approved, flagged, current, replaced);
#: each bumps the image's review revision. A pre-flag answer does not: it leaves every
#: decision standing.
DECIDING_ACTIONS = (
    ReviewDecision.Action.APPROVE, ReviewDecision.Action.FLAG, ReviewDecision.Action.CHOOSE,
    ReviewDecision.Action.RERUN, ReviewDecision.Action.RETOUCH, ReviewDecision.Action.STROKES,
    ReviewDecision.Action.UNDO,
)


def _deciding(asset_id: int) -> QuerySet[ReviewDecision]:
    return ReviewDecision.objects.filter(asset_id=asset_id, action__in=DECIDING_ACTIONS)


def review_revision(*, asset_id: int) -> int:
    """The image's review revision: the id of its latest deciding decision, 0 before any.
    Decisions about an image are made under its row lock (``services.status.assets_lock``),
    so ids grow in the order they were made."""
    return _deciding(asset_id).order_by("-pk").values_list("pk", flat=True).first() or 0


def review_last_decision(*, asset_id: int) -> ReviewDecision | None:
    """The image's latest deciding decision (who, what, when), for a refusal to name."""
    return _deciding(asset_id).select_related("user", "cutout").order_by("-pk").first()


#: the decisions an Undo takes back, and the review status each leaves its version in
UNDOABLE: dict[str, str] = {ReviewDecision.Action.APPROVE: ReviewStatus.APPROVED,
            ReviewDecision.Action.FLAG: ReviewStatus.FLAGGED}


def undoable_decision(*, cutout: Cutout, user) -> ReviewDecision | None:
    """What an Undo offered after ``user``'s approval or flag of ``cutout`` takes back: the
    image's latest decision, when it is that one (an older row, without what it changed,
    cannot be undone)."""
    last = review_last_decision(asset_id=cutout.asset_id)
    if (last is None or last.cutout_id != cutout.pk or last.action not in UNDOABLE
            or not last.before or last.user_id != getattr(user, "pk", None)):
        return None
    return last


#: runs that answer an older version of their image: finished, or still to finish (a failed
#: or cancelled one gives the older version back, ``runs``)
ANSWERING_RUNS = (JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.DONE)


def _newer_runs(asset_id, version) -> QuerySet[Cutout]:
    return Cutout.objects.filter(asset_id=asset_id, version__gt=version,
                                 status__in=ANSWERING_RUNS)


def _runs_hiding_a_flag(asset_id, version) -> QuerySet[Cutout]:
    """The newer runs that take a flagged version's place: a version superseded (answered
    by an approval or a choice of an older one) takes no place (QA35 B2: the image's current
    v1, approved over v2 and v3, could not be flagged for retouch)."""
    return _newer_runs(asset_id, version).exclude(review_status=ReviewStatus.SUPERSEDED)


def flag_hiding_version(*, cutout: Cutout) -> Cutout | None:
    """The image's newest run that would keep a flag on ``cutout`` out of the retouch queue
    (``retouch_waiting``): the service refuses such a flag, which would reach nobody."""
    return (_runs_hiding_a_flag(cutout.asset_id, cutout.version).exclude(pk=cutout.pk)
            .order_by("-version").only("pk", "version", "status", "review_status").first())


def newer_version(*, cutout: Cutout, than: int) -> Cutout | None:
    """The image's newest version numbered above ``than`` (finished, queued or running),
    other than ``cutout``: what a card drawn when ``than`` was the newest did not show."""
    return (_newer_runs(cutout.asset_id, than).exclude(pk=cutout.pk).order_by("-version")
            .only("pk", "version", "status", "review_status", "is_current").first())


@dataclass(frozen=True)
class Seen:
    """The review state a decision was made on, as the card showed it: the version's review
    status, the image's review revision (None: only the status is known, as on a grid
    tile) and the image's newest version number (None: not known; a version made since —
    a re-cut from the product list leaves no decision — is one the card did not show). The
    card's forms carry it as ``seen``; ``services.review`` refuses a decision whose version
    no longer is in that state."""

    review_status: str
    revision: int | None = None
    newest: int | None = None

    def token(self) -> str:
        token = f"{self.review_status}:{'' if self.revision is None else self.revision}"
        return token if self.newest is None else f"{token}:{self.newest}"

    @classmethod
    def of(cls, cutout: Cutout, *, revision: int, newest: int | None = None) -> Seen:
        return cls(review_status=cutout.review_status, revision=revision, newest=newest)

    @classmethod
    def parse(cls, text: str) -> Seen | None:
        """The ``seen`` a form sent; None when it sent none (a client older than the token:
        its decision is applied as before). One that cannot be read is refused; one without
        the newest version (a page drawn before it was added) checks the rest."""
        if not text:
            return None
        status, *numbers = text.split(":")
        if (status not in ReviewStatus.values or len(numbers) not in (1, 2)
                or not (numbers[0] == "" or digits_from(numbers[0]) is not None)
                or not (len(numbers) == 1 or digits_from(numbers[1]) is not None)):
            raise ReviewInputError("This card's state could not be read: reload it.",
                                   field="seen")
        return cls(review_status=status, revision=int(numbers[0]) if numbers[0] else None,
                   newest=int(numbers[1]) if len(numbers) == 2 else None)


@dataclass
class Card:
    cutout: Cutout
    versions: list[Cutout]
    decisions: list[ReviewDecision]
    confirmed_preflags: set[str] = field(default_factory=set)
    neighbours: Neighbours | None = None
    revision: int = 0

    @property
    def newest(self) -> int:
        """The image's newest version number as the card shows it."""
        return max((v.version for v in self.versions), default=self.cutout.version)

    @property
    def seen(self) -> str:
        """What the card's own decisions send as ``seen``."""
        return Seen.of(self.cutout, revision=self.revision, newest=self.newest).token()

    def seen_of(self, version: Cutout) -> str:
        return Seen.of(version, revision=self.revision, newest=self.newest).token()

    @property
    def replaced_by(self) -> tuple[Cutout, VersionState] | None:
        """The version that took this one's place, with its state: the image's newest run
        above it (finished, queued or running), else, for a superseded version, the one
        chosen. Its card offers no plain Approve (approving it would answer that version,
        superseded without a word: QA 2026-12-04), only "Use this version instead", the
        explicit choice, and its retouch page says which version is newer. None for the
        version the image is on."""
        c = self.cutout
        if c.status != JobStatus.DONE or c.is_current:
            return None
        rows = version_states(self.versions)  # newest first
        newer = next(((v, s) for v, s in rows
                      if v.version > c.version and v.status in ANSWERING_RUNS), None)
        if newer is None and c.review_status == ReviewStatus.SUPERSEDED:
            newer = next(((v, s) for v, s in rows if v.is_current and v.pk != c.pk), None)
        return newer

    @property
    def ships(self) -> Cutout | None:
        """The image's approved version, older than this one, that export ships while this
        one is reviewed or retouched (v1 approved, v2 cut again): a retouch of this one
        makes a new version to review and leaves it shipping. None when this version was
        replaced (``replaced_by`` says so) or is the one shipping."""
        c = self.cutout
        if c.status != JobStatus.DONE or c.is_current or self.replaced_by is not None:
            return None
        return next((v for v in self.versions if v.is_current and v.version < c.version
                     and v.status == JobStatus.DONE
                     and v.review_status == ReviewStatus.APPROVED), None)

    @property
    def awaiting_review(self) -> bool:
        c = self.cutout
        return c.status == JobStatus.DONE and c.review_status == ReviewStatus.PENDING

    @property
    def is_active(self) -> bool:
        return version_is_active(self.cutout)

    @property
    def can_approve(self) -> bool:
        return self.cutout.can_approve

    @property
    def version_rows(self) -> list[tuple[Cutout, VersionState, str]]:
        """Each version, its state and the ``seen`` its Choose sends."""
        return [(v, state, self.seen_of(v)) for v, state in version_states(self.versions)]

    @property
    def state(self) -> VersionState:
        return version_state(self.cutout, current_id=current_version_id(self.versions))


def review_card(*, cutout_id: int, filters: QueueFilters | None = None,
                with_neighbours: bool = True) -> Card:
    """Everything the card shows, in five queries. Raises Cutout.DoesNotExist."""
    cutout = _live(Cutout.objects.select_related(
        "asset", "asset__product", "batch", "reviewed_by", "parent")).get(pk=cutout_id)
    versions = list(Cutout.objects.filter(asset_id=cutout.asset_id).order_by("-version")
                    .only("pk", "version", "status", "review_status", "is_current", "source",
                          "model_name", "risk", "created_at", "asset_id", "parent_id",
                          "is_unchanged"))
    decisions = list(ReviewDecision.objects.filter(asset_id=cutout.asset_id)
                     .select_related("user", "cutout").only(
                         "pk", "action", "reasons", "comment", "created_at", "cutout__version",
                         "cutout__id", "cutout__is_unchanged", "user__username", "asset_id")[:100])
    confirmed = {r for d in decisions if d.cutout_id == cutout.pk
                 and d.action == ReviewDecision.Action.PREFLAG_CONFIRM for r in d.reasons}
    neighbours = review_neighbours(cutout=cutout, filters=filters) if with_neighbours else None
    # the newest decisions are at hand; only an image with a hundred pre-flag answers since
    # its last decision needs the query
    revision = max((d.pk for d in decisions if d.action in DECIDING_ACTIONS), default=None)
    if revision is None:
        revision = review_revision(asset_id=cutout.asset_id) if len(decisions) == 100 else 0
    return Card(cutout=cutout, versions=versions, decisions=decisions,
                confirmed_preflags=confirmed, neighbours=neighbours, revision=revision)


def version_is_active(cutout: Cutout) -> bool:
    """Queued or running: its card and retouch page show the polling pending note."""
    return cutout.status in (JobStatus.QUEUED, JobStatus.RUNNING)


# What a pending note shows (the status, queue, bar and the time waited or run); the
# retouch page's also counts the strokes being applied.
#: source and is_unchanged: the card's poll swaps the version's row in the Versions list too
#: (its badge, version_state, and its "retouch" word)
_PENDING_NOTE_FIELDS = ("pk", "version", "status", "queue", "stage", "progress", "attempts",
                        "created_at", "enqueued_at", "started_at", "source", "is_unchanged")


def pending_note_cutout(*, cutout_id: int, strokes: bool = False) -> Cutout:
    """The version a pending note polls, in one query: only the fields the note shows (a
    poll comes every second per open card, so it does not read the card). Raises
    Cutout.DoesNotExist, as ``review_card`` does, for a missing or deleted one."""
    fields = _PENDING_NOTE_FIELDS + (("strokes",) if strokes else ())
    return _live(Cutout.objects.only(*fields)).get(pk=cutout_id)


def cutout_for_image(*, cutout_id: int) -> Cutout:
    return _live(Cutout.objects.select_related("asset")).only(
        "pk", "version", "run_token", "rgba_name", "mask_name", "shadow_name", "status",
        "asset__id", "asset__sha256", "asset__working_name", "asset__working_width",
        "asset__working_height").get(pk=cutout_id)


def retouch_waiting(*, filters: QueueFilters | None = None) -> QuerySet[Cutout]:
    """The flags the retouch queue lists: a finished flagged version with no newer version
    of its image (finished, queued or running; a failed or cancelled one gives the flag
    back, and so, since 2026-12-06, does one an approval or a choice superseded:
    ``flag_hiding_version``). Before (QA 2026-12-04) a flag stayed listed after its image
    was cut again ("Cut again"), its Retouch button opening the old version. A flag on a
    version newer than the approved one (v1 approved, v2 cut again and flagged; or v2
    superseded by a choice of v1, then flagged) is listed too: it asks for a better
    version, though the image reads *Approved* and the catalog's "Needs retouch" status
    count leaves it out (its row says v1 ships). The review side's retouch counts (the
    queue's, the dashboard's "To retouch") come from this selector."""
    newer = _runs_hiding_a_flag(OuterRef("asset_id"), OuterRef("version"))
    rows = _live(Cutout.objects.filter(
        status=JobStatus.DONE, review_status=ReviewStatus.FLAGGED).filter(~Exists(newer)))
    return _filtered(rows, filters or QueueFilters())


def retouch_queue_count(*, filters: QueueFilters | None = None, cap: int | None = None) -> int:
    """Flags in the retouch queue (``cap`` stops counting early)."""
    qs = retouch_waiting(filters=filters).order_by()
    return (qs[:cap] if cap else qs).count()


def retouch_queue(*, filters: QueueFilters | None = None, limit: int = 200) -> list[Cutout]:
    """Flagged versions waiting for a retouch, oldest flag first."""
    return retouch_queue_page(filters=filters, per_page=limit).rows


def retouch_queue_page(*, filters: QueueFilters | None = None, page: int = 1,
                       per_page: int = 50) -> QueuePage:
    """A page of the retouch queue, oldest flag first; each row carries ``flag_comment``,
    the comment of the flag that put it there, and ``ships_version``, the image's approved
    version export ships meanwhile, or None (subqueries, not one query per row)."""
    flag = ReviewDecision.objects.filter(
        cutout_id=OuterRef("pk"), action=ReviewDecision.Action.FLAG).order_by("-created_at", "-pk")
    # the image's approved version, older than the flag (the queue lists no flag with a
    # newer version): it is what ships while the retouch is made
    ships = Cutout.objects.filter(asset_id=OuterRef("asset_id"), is_current=True,
                                  status=JobStatus.DONE, review_status=ReviewStatus.APPROVED)
    qs = retouch_waiting(filters=filters)
    rows = (qs.select_related("asset", "asset__product", "reviewed_by")
            .annotate(flag_comment=Subquery(flag.values("comment")[:1]),
                      ships_version=Subquery(ships.values("version")[:1]))
            .order_by("reviewed_at", "pk"))
    return _queue_page(rows, page=page, per_page=per_page,
                       count=lambda cap: retouch_queue_count(filters=filters, cap=cap))


def asset_history(*, asset_id: int, limit: int = 500) -> list[ReviewDecision]:
    return list(ReviewDecision.objects.filter(asset_id=asset_id)
                .select_related("user", "cutout").order_by("-created_at", "-pk")[:limit])


def review_facets() -> dict:
    """Choices for the queue filters, from small tables and indexes only: brands of live
    products, the models installed here, the recent batches."""
    from catalog.selectors import product_facets

    return {
        "brands": product_facets()["brands"],
        "models": sorted(rerun_models()),
        # A re-run or retouch makes its own one-image interactive batch; listing those would
        # push the upload batches reviewers filter by out of the 30 shown.
        "batches": list(CutoutBatch.objects.exclude(queue=CutoutQueue.INTERACTIVE, total__lte=1)
                        .order_by("-created_at").only("pk", "label", "created_at")[:30]),
    }


def rerun_profiles() -> list[dict]:
    """The profiles a re-run offers, with the TTA and refinement strength each brings: the
    card's panel shows them when another profile is picked, as the re-run service applies."""
    return [{"name": name, "tta": s.tta_flip, "strength": strength_of(s.to_dict())}
            for name, s in PROFILES.items()]


def rerun_strength(settings: dict | None) -> str:
    """The refinement strength a version's settings were made with, for the re-run form."""
    return strength_of(settings)


@lru_cache(maxsize=1)
def rerun_models() -> tuple[str, ...]:
    """Models whose file is installed here, for the re-run form."""
    from .. import engine
    from ..imaging.models import REGISTRY, ModelError

    names = []
    for name in REGISTRY:
        try:
            engine.model_check(name)
        except (ModelError, OSError, ValueError):
            continue
        names.append(name)
    return tuple(names)
