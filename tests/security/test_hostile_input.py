"""Hostile input: catastrophic regexes in naming rules, ZIP bombs made of small entries, and
redirect targets that leave the site."""

import io
import os
import time
import zipfile

import pytest
from django.test import Client
from django.urls import reverse

from catalog.ingest import archives
from catalog.ingest.naming import FilenameRules, NamingError, TimedRegex, compile_regex
from tests.factories import manager

# --- ReDoS: a naming rule answers within a second, or is refused when saved --------------------

PATHOLOGICAL = r"^(?P<sku>(a|aa)+)b"  # exponential on a backtracking engine


@pytest.mark.parametrize("length", [24, 26, 28, 34, 60])
def test_it_answers_the_issues_rule_within_a_second(length):
    """The rule from issue 14 (#3) took 0.76/4.4/18.8 s on 24/26/28 a's; now it is bounded."""
    rules = FilenameRules(regex=r"^(?P<sku>(a+)+)b")
    started = time.perf_counter()
    found = rules.candidates("a" * length + ".jpg")
    assert time.perf_counter() - started < 1.0
    assert found == []  # no "b": no match, and the answer came at once


def test_it_refuses_a_catastrophic_rule_when_it_is_saved():
    started = time.perf_counter()
    with pytest.raises(NamingError, match="backtracks catastrophically"):
        compile_regex(PATHOLOGICAL)
    assert time.perf_counter() - started < 1.0


def test_it_bounds_every_match_even_when_the_probes_miss_the_problem():
    slow = TimedRegex(PATHOLOGICAL, timeout=0.05)
    started = time.perf_counter()
    with pytest.raises(NamingError, match="took longer than"):
        slow.search("a" * 40 + "!")
    assert time.perf_counter() - started < 1.0


def test_it_gives_a_slow_rule_up_after_three_timeouts():
    """300 files must not each spend the full timeout on a rule that slipped past the probes."""
    slow = TimedRegex(PATHOLOGICAL, timeout=0.05)
    for _ in range(TimedRegex.MAX_TIMEOUTS):
        with pytest.raises(NamingError, match="took longer than"):
            slow.search("a" * 40 + "!")
    started = time.perf_counter()
    with pytest.raises(NamingError, match="given up"):
        slow.search("a" * 40 + "!")
    assert time.perf_counter() - started < 0.01


def test_it_keeps_ordinary_rules_working():
    rules = FilenameRules(regex=r"(?P<sku>[A-Z]+\d+)_(?P<n>\d)")
    assert rules.match("shoot/abc123_2.JPG").sku == "abc123"
    assert rules.match("shoot/abc123_2.JPG").position == "PT01"


def _zip(entries: list[tuple[str, bytes]]) -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    buffer.seek(0)
    return buffer


@pytest.mark.django_db
def test_it_refuses_the_rule_on_the_import_form_with_a_message():
    client = Client()
    client.force_login(manager())
    upload = _zip([("ABC1_1.jpg", b"x")])
    upload.name = "shoot.zip"
    response = client.post(reverse("catalog:import_list"),
                           {"archive": upload, "regex": PATHOLOGICAL}, follow=True)
    assert response.status_code == 200
    assert "backtracks catastrophically" in response.content.decode()


# --- ZIP bombs ---------------------------------------------------------------------------------

LIMITS = archives.ArchiveLimits()


def test_it_refuses_many_small_zero_entries_before_inflating_any():
    """Issue 14 #7 in small: 100 x 1 MB of zeros (each entry under the old 1 MiB floor)."""
    bomb = _zip([(f"img{i:04}.jpg", bytes(1_000_000)) for i in range(100)])
    assert len(bomb.getvalue()) < 200_000
    started = time.perf_counter()
    with pytest.raises(archives.ArchiveError, match="Zip bomb refused"):
        archives.ZipSource(bomb, limits=LIMITS)
    assert time.perf_counter() - started < 1.0


def test_it_counts_entries_below_the_per_entry_floor_too():
    """1,200 entries of 60 KB each: every one is under the per-entry ratio floor."""
    entries = [(f"img{i:04}.jpg", bytes(60_000)) for i in range(1200)]
    assert all(len(data) < LIMITS.ratio_floor_bytes for _, data in entries)
    with pytest.raises(archives.ArchiveError, match="expand"):
        archives.ZipSource(_zip(entries), limits=LIMITS)


def test_it_refuses_one_small_over_ratio_entry_but_keeps_the_rest():
    entries = [("zeros.jpg", bytes(200_000)), ("random.jpg", os.urandom(200_000))]
    source = archives.ZipSource(_zip(entries), limits=LIMITS)
    problems = {e.name: e.problem for e in source.entries()}
    assert problems["zeros.jpg"].startswith("Zip bomb refused: compression ratio")
    assert problems["random.jpg"] == ""


def test_it_refuses_an_archive_over_the_total_size():
    limits = archives.ArchiveLimits(max_total_bytes=1_000_000)
    with pytest.raises(archives.ArchiveError, match="over the limit of 1,000,000"):
        archives.ZipSource(_zip([("a.jpg", os.urandom(600_000)), ("b.jpg", os.urandom(600_000))]),
                           limits=limits)


def test_it_never_inflates_more_than_an_entry_declares():
    """Sizes in the central directory can lie; copying stops at the declared size."""
    data = _zip([("a.jpg", bytes(300_000))]).getvalue()
    # Patch the central directory's uncompressed size (offset 24 in the entry) to 1,000.
    cd = data.rfind(b"PK\x01\x02")
    patched = bytearray(data)
    patched[cd + 24:cd + 28] = (1000).to_bytes(4, "little")
    source = archives.ZipSource(io.BytesIO(bytes(patched)), limits=LIMITS)
    (entry,) = source.entries()
    # zipfile itself stops at the declared size (CRC mismatch); either way it is refused.
    with pytest.raises(archives.ArchiveError, match="larger than its header|Corrupt ZIP"):
        source.open(entry)


# --- redirect targets ------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(("target", "expected"), [
    ("https://evil.example/phish", "/cutouts/batches/"),
    ("//evil.example/phish", "/cutouts/batches/"),
    ("javascript:alert(1)", "/cutouts/batches/"),
    ("/catalog/products/", "/catalog/products/"),
])
def test_it_keeps_batch_start_redirects_on_the_site(target, expected):
    """Issue 14 #6: off-site next= was followed, javascript: gave a 500."""
    client = Client()
    client.force_login(manager())
    response = client.post(reverse("cutouts:batch_start"), {"product": "999", "next": target})
    assert response.status_code == 302
    assert response.url == expected


@pytest.mark.django_db
@pytest.mark.parametrize("target", ["https://evil.example/", "javascript:alert(1)"])
def test_it_keeps_login_redirects_on_the_site(target):
    from tests.factories import PASSWORD

    user = manager()
    response = Client().post(reverse("login") + f"?next={target}",
                             {"username": user.username, "password": PASSWORD,
                              "next": target})
    assert response.status_code == 302
    assert response.url == reverse("dashboard")


@pytest.mark.django_db
def test_it_fails_an_import_of_a_small_entry_bomb_at_once_with_the_reason(tmp_path):
    """Through the import job: refused before any entry is inflated, and nothing is stored."""
    from catalog.models import ImageAsset, ImportJob
    from catalog.services.import_runner import import_job_run
    from catalog.services.imports import import_job_create

    path = tmp_path / "bomb.zip"
    path.write_bytes(_zip([(f"ABC{i}_1.jpg", bytes(1_000_000)) for i in range(100)]).getvalue())
    job = import_job_create(user=None, source_kind=ImportJob.Source.ZIP,
                            source_path=str(path), enqueue=False)
    started = time.perf_counter()
    import_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert time.perf_counter() - started < 2.0
    assert job.status == "failed"
    assert job.message.startswith("Zip bomb refused")
    assert ImageAsset.objects.count() == 0
