"""catalog.ingest.archives: entry checks, without the database; a damaged or incomplete ZIP
(cut off after a nested ZIP, a directory pointing past its headers) is refused as a whole while
odd but valid ZIPs still read."""

import csv
import io
import re
import zipfile

import pytest
from django.core.files.base import ContentFile

from catalog.ingest.archives import (
    IGNORED_NAME_PATTERN,
    IGNORED_REASON,
    NAME_IGNORED,
    NAME_NESTED,
    NAME_NOT_IMAGE,
    NAME_UNSAFE,
    ZIP_DAMAGED_REASON,
    ArchiveError,
    ArchiveLimits,
    FolderSource,
    ZipSource,
    entry_name_problem,
    is_hidden_path,
    is_ignored,
    manifest_path,
    name_order_key,
    not_image_reason,
    unsafe_name_reason,
)
from catalog.selectors import import_job_report_csv
from catalog.services.import_runner import import_job_run
from catalog.services.imports import import_job_create
from tests.catalog.imagegen import jpeg_bytes, zip_bytes
from tests.catalog.manifest_scenes import MANIFEST_RULES
from tests.factories import ProductFactory

LIMITS = ArchiveLimits()


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("../a.jpg", "'..'"),
        ("a/../../b.jpg", "'..'"),
        ("..\\..\\win.jpg", "'..'"),
        ("/etc/a.jpg", "absolute path"),
        ("\\\\server\\share\\a.jpg", "absolute path"),
        ("C:\\photos\\a.jpg", "absolute path"),
        ("a\x00.jpg", "NUL"),
    ],
)
def test_it_refuses_names_that_could_escape(name, reason):
    assert reason in unsafe_name_reason(name)


@pytest.mark.parametrize("name", ["a.jpg", "SKU1/a.jpg", "a..b.jpg", "./a.jpg", "...jpg"])
def test_it_accepts_plain_relative_names(name):
    assert unsafe_name_reason(name) == ""


def _zip(infos: list[tuple[zipfile.ZipInfo, bytes]], compression=zipfile.ZIP_STORED) -> ZipSource:
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", compression=compression) as zf:
        for info, data in infos:
            info.compress_type = compression
            zf.writestr(info, data)
    raw.seek(0)
    return ZipSource(raw, limits=LIMITS)


def test_it_flags_encrypted_and_symlinked_entries():
    link = zipfile.ZipInfo("b.jpg")
    link.external_attr = 0o120755 << 16
    source = _zip([(zipfile.ZipInfo("a.jpg"), b"x"), (link, b"target")])
    # zipfile cannot write encrypted entries; set the flag as a reader would see it.
    source.zip.getinfo("a.jpg").flag_bits |= 0x1
    assert [e.problem for e in source.entries()] == [
        "Refused: encrypted entry.", "Refused: symbolic link in the archive."]


def test_it_copies_entries_to_anonymous_temp_files_in_chunks():
    data = jpeg_bytes(size=(1500, 1500))
    source = ZipSource(io.BytesIO(zip_bytes({"deep/../../x.jpg": b"", "ok.jpg": data})),
                       limits=LIMITS)
    entries = source.entries()
    assert entries[0].problem and not entries[1].problem
    with source.open(entries[1]) as handle:
        assert handle.read() == data
        assert not hasattr(handle, "name") or "ok.jpg" not in str(handle.name)


def test_it_limits_the_number_of_entries():
    members = {f"{n}.jpg": b"x" for n in range(6)}
    with pytest.raises(ArchiveError, match="the limit is 5"):
        ZipSource(io.BytesIO(zip_bytes(members)), limits=ArchiveLimits(max_entries=5))


def test_it_skips_desktop_junk_silently():
    members = {"__MACOSX/._a.jpg": b"x", "a/.DS_Store": b"x", "Thumbs.db": b"x", "a.jpg": b"x"}
    source = ZipSource(io.BytesIO(zip_bytes(members)), limits=LIMITS)
    assert [e.name for e in source.entries()] == ["a.jpg"]


@pytest.mark.parametrize(("names", "kept"), [
    # one rule with the upload page, which lists a dropped .hidden.jpg as ignored: a ZIP
    # import took it (only .DS_Store and ._ files were passed over)
    ([".hidden.jpg", "a/.A1_MAIN.jpg", "a/DESKTOP.INI", "a/A1_PT01.jpg"], "a/A1_PT01.jpg"),
    # a hidden or system folder anywhere: NAS thumbnails are no product photos
    ([".thumbs/A1_MAIN.jpg", "A1/.@__thumb/A1_PT01.jpg",
      "A1/@eaDir/A1_PT02.jpg/SYNOFILE_THUMB_M.jpg", "A1/__MACOSX/A1_PT03.jpg",
      "A1/A1_PT04.jpg"], "A1/A1_PT04.jpg"),
])
def test_it_passes_over_hidden_and_system_names_in_a_zip_and_a_folder_alike(
        tmp_path, names, kept):
    data = jpeg_bytes(size=(600, 500))
    zipped = ZipSource(io.BytesIO(zip_bytes(dict.fromkeys(names, data))), limits=LIMITS)
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    walked = FolderSource(tmp_path, limits=LIMITS)
    assert [e.name for e in zipped.entries()] == [e.name for e in walked.entries()] == [kept]


@pytest.mark.parametrize(("name", "ignored"), [
    (".hidden.jpg", True), ("shoot/.A1_MAIN.JPG", True), ("._x.jpg", True),
    (".DS_Store", True), ("thumbs.DB", True), ("a/Desktop.ini", True),
    ("x.jpg", False), ("a.b/x.jpg", False), ("my.thumbs.db", False), ("..\\x.jpg", False),
    # a hidden or system folder anywhere in the path: NAS thumbnails are no product photos
    (".thumbs/A1_MAIN.jpg", True), ("shoot/.@__thumb/A1_MAIN.jpg", True),
    ("shoot/@eaDir/A1_MAIN.jpg/SYNOFILE_THUMB_M.jpg", True), ("@EADIR/x.jpg", True),
    ("shoot/__MACOSX/A1/._x.jpg", True), ("a\\.thumbs\\x.jpg", True),
    ("thumbs/x.jpg", False), ("eaDir/x.jpg", False), ("my@eaDir/x.jpg", False),
    ("__MACOSX_old/x.jpg", False), ("./shoot/x.jpg", False),
    # traversal is refused and reported, whatever its other parts (never passed over)
    (".thumbs/../x.jpg", False), ("../.DS_Store", False), ("/.thumbs/x.jpg", False),
])
def test_it_gives_the_page_the_pattern_the_imports_ignore_names_by(name, ignored):
    # upload.js tests IGNORED_NAME_PATTERN on every part of a path ("/" or "\\"), ignoring
    # case, unless the path climbs out or starts at a root
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]
    page = (not name.startswith("/") and ".." not in parts
            and any(re.search(IGNORED_NAME_PATTERN, p, re.IGNORECASE) for p in parts))
    assert page is ignored
    assert is_hidden_path(name) is ignored
    assert is_ignored(name) is ignored


def test_it_refuses_traversal_through_a_hidden_folder_rather_than_pass_it_over():
    # ".x/../a.jpg" names a hidden folder, but climbs out of it: a refusal the report shows
    # (before 2026-12-05 "../.DS_Store" was passed over for its last part)
    names = [".thumbs/../A1_MAIN.jpg", "../.DS_Store"]
    source = ZipSource(io.BytesIO(zip_bytes(dict.fromkeys(names, b"x"))), limits=LIMITS)
    assert {e.name: e.problem for e in source.entries()} == dict.fromkeys(
        names, "Refused: '..' in the path (path traversal).")


def test_it_reads_a_root_manifest_or_the_single_top_folders_but_no_deeper_one():
    with_root = ZipSource(io.BytesIO(zip_bytes({"Manifest.CSV": b"sku\nA\n"})), limits=LIMITS)
    assert with_root.manifest() == b"sku\nA\n"
    # macOS "Compress folder": the folder's manifest, and its metadata beside it
    top = ZipSource(io.BytesIO(zip_bytes({"x/manifest.csv": b"sku\nA\n", "x/a.jpg": b"x",
                                          "__MACOSX/x/._a.jpg": b"x"})), limits=LIMITS)
    assert top.manifest() == b"sku\nA\n" and top.manifest_name == "x/manifest.csv"
    assert [e.name for e in top.entries()] == ["x/a.jpg"]
    for members in ({"x/y/manifest.csv": b"sku\nA\n", "x/a.jpg": b"x"},
                    {"x/manifest.csv": b"sku\nA\n", "y/a.jpg": b"x"},
                    {"x/manifest.csv": b"sku\nA\n", "a.jpg": b"x"}):
        nested = ZipSource(io.BytesIO(zip_bytes(members)), limits=LIMITS)
        assert nested.manifest() is None
        assert {e.name: e.problem for e in nested.entries()}[
            next(n for n in members if n.endswith(".csv"))].startswith("Skipped: not an image")


@pytest.mark.parametrize(("names", "found"), MANIFEST_RULES)
def test_it_finds_the_manifest_at_the_root_or_in_the_single_top_folder(names, found):
    assert manifest_path(names) == found


def test_it_reads_a_server_folders_manifest_by_the_same_rule(tmp_path):
    (tmp_path / "shoot" / "front").mkdir(parents=True)
    (tmp_path / "shoot" / "manifest.csv").write_bytes(b"sku\nA\n")
    (tmp_path / "shoot" / "front" / "a.jpg").write_bytes(b"x")
    source = FolderSource(tmp_path, limits=LIMITS)
    assert source.manifest() == b"sku\nA\n"
    assert [e.name for e in source.entries()] == ["shoot/front/a.jpg"]


def test_it_walks_a_folder_in_order_without_following_links(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "2.jpg").write_bytes(b"x")
    (tmp_path / "1.jpg").write_bytes(b"x")
    (tmp_path / "inner.zip").write_bytes(zip_bytes({"a.jpg": b"x"}))
    (tmp_path / "linked").symlink_to(tmp_path / "b")
    entries = FolderSource(tmp_path, limits=LIMITS).entries()
    assert [(e.name, bool(e.problem)) for e in entries] == [
        ("1.jpg", False), ("b/2.jpg", False), ("inner.zip", True), ("linked", True)]


def test_it_lists_zip_entries_in_name_order_as_a_folder_is_walked(tmp_path):
    names = ["ORD-1/IMG_0003.jpg", "ORD-1/IMG_0001.jpg", "B.jpg", "ORD-1/IMG_0002.jpg",
             "A/z.jpg", "A.jpg"]
    data = zip_bytes(dict.fromkeys(names, jpeg_bytes(size=(600, 500))))
    zipped = [e.name for e in ZipSource(io.BytesIO(data), limits=LIMITS).entries()]
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    walked = [e.name for e in FolderSource(tmp_path, limits=LIMITS).entries()]
    assert zipped == walked == sorted(names, key=name_order_key)
    assert zipped == ["A/z.jpg", "A.jpg", "B.jpg", "ORD-1/IMG_0001.jpg", "ORD-1/IMG_0002.jpg",
                      "ORD-1/IMG_0003.jpg"]


@pytest.mark.parametrize(("name", "reason"), [
    ("readme.txt", "Skipped: not an image file name (.txt)."),
    # an image format the import does not read: named, with what to convert it to (QA38 L9)
    ("anim.GIF", "Skipped: GIF images are not supported (.GIF); "
                  "convert it to JPEG, PNG, WebP, TIFF, HEIC/HEIF or AVIF."),
    ("scan.bmp", "Skipped: BMP images are not supported (.bmp); "
                  "convert it to JPEG, PNG, WebP, TIFF, HEIC/HEIF or AVIF."),
    ("noext", "Skipped: not an image file name (no extension)."),
    ("a/IMG_1.JPEG", ""),
])
def test_it_has_one_wording_for_names_that_are_not_images(name, reason):
    assert not_image_reason(name) == reason
    problem = entry_name_problem(name)
    assert (problem.reason if problem else "") == reason
    assert problem is None or (problem.kind, problem.skipped) == (NAME_NOT_IMAGE, True)


@pytest.mark.parametrize(("name", "kind", "skipped"), [
    ("../x.jpg", NAME_UNSAFE, False),
    ("/etc/x.jpg", NAME_UNSAFE, False),
    ("a/old.zip", NAME_NESTED, False),
    ("a/notes.txt", NAME_NOT_IMAGE, True),
    (".DS_Store", NAME_IGNORED, False),
    ("a/.hidden.jpg", NAME_IGNORED, False),
    ("a/..", NAME_UNSAFE, False),
    ("__MACOSX/a/._x.jpg", NAME_IGNORED, False),
    ("manifest.csv", NAME_IGNORED, False),
    ("a/.@__thumb/x.jpg", NAME_IGNORED, False),
    ("a/@eaDir/x.jpg/SYNOFILE_THUMB_S.jpg", NAME_IGNORED, False),
    (".thumbs/../x.jpg", NAME_UNSAFE, False),
    ("/.thumbs/x.jpg", NAME_UNSAFE, False),
])
def test_it_says_which_kind_of_name_problem_an_entry_has(name, kind, skipped):
    # the preview tells a refused path from an unmapped name by the kind, asking no second rule
    problem = entry_name_problem(name)
    assert problem is not None
    assert (problem.kind, problem.skipped) == (kind, skipped)
    assert problem.reason == (IGNORED_REASON if kind == NAME_IGNORED
                              else unsafe_name_reason(name) or problem.reason)
    assert problem.reason


def _truncated_after_nested_zip() -> bytes:
    """A shoot ZIP holding a stored nested ZIP, cut 300 bytes after the nested one's end."""
    inner = zip_bytes({"OLD-1_MAIN.jpg": jpeg_bytes(size=(300, 200), seed=9)})
    members = {f"shoot/ZE00{n}_MAIN.jpg": jpeg_bytes(size=(300, 200), seed=n) for n in (1, 2)}
    members["shoot/old-shoot-backup.zip"] = inner
    members.update({f"shoot/ZE00{n}_MAIN.jpg": jpeg_bytes(size=(300, 200), seed=n)
                    for n in (3, 4)})
    whole = zip_bytes(members)
    cut = whole.find(inner) + len(inner) + 300
    assert zipfile.ZipFile(io.BytesIO(whole[:cut])).namelist() == ["OLD-1_MAIN.jpg"]
    return whole[:cut]


def _source(data: bytes) -> ZipSource:
    return ZipSource(io.BytesIO(data), limits=LIMITS)


def test_it_refuses_a_cut_off_zip_that_ends_with_a_nested_zips_directory():
    with pytest.raises(ArchiveError) as refused:
        _source(_truncated_after_nested_zip())
    assert str(refused.value) == ZIP_DAMAGED_REASON


def test_it_says_a_zip_cut_off_before_its_directory_is_damaged_not_unreadable():
    whole = zip_bytes({"A_MAIN.jpg": jpeg_bytes(size=(300, 200))})
    with pytest.raises(ArchiveError) as refused:
        _source(whole[: len(whole) // 2])
    assert str(refused.value) == ZIP_DAMAGED_REASON
    with pytest.raises(ArchiveError, match="Not a readable ZIP file"):
        _source(b"plain text, not a zip at all" * 10)


def test_it_refuses_a_zip_whose_directory_points_past_its_local_headers():
    data = bytearray(zip_bytes({"A_MAIN.jpg": b"a" * 100, "B_MAIN.jpg": b"b" * 100}))
    # the second central record's local-header offset now points into A's data
    second = data.find(b"PK\x01\x02", data.find(b"PK\x01\x02") + 4)
    data[second + 42:second + 46] = (40).to_bytes(4, "little")
    with pytest.raises(ArchiveError) as refused:
        _source(bytes(data))
    assert str(refused.value) == ZIP_DAMAGED_REASON


def _zip64_with_descriptors_and_comment() -> bytes:
    raw = io.BytesIO()

    class Unseekable(io.RawIOBase):  # written as a stream: local headers + data descriptors
        def writable(self):
            return True

        def write(self, b):
            return raw.write(b)

    limit = zipfile.ZIP_FILECOUNT_LIMIT
    zipfile.ZIP_FILECOUNT_LIMIT = 1  # two entries then need the ZIP64 end records
    try:
        with zipfile.ZipFile(Unseekable(), "w", zipfile.ZIP_DEFLATED) as zf:
            zf.comment = b"exported by a camera app"
            for name in ("A_MAIN.jpg", "B_MAIN.jpg"):
                with zf.open(name, "w", force_zip64=True) as handle:
                    handle.write(jpeg_bytes(size=(300, 200)))
    finally:
        zipfile.ZIP_FILECOUNT_LIMIT = limit
    return raw.getvalue()


def test_it_still_reads_a_zip64_with_data_descriptors_and_a_comment():
    data = _zip64_with_descriptors_and_comment()
    zf = zipfile.ZipFile(io.BytesIO(data))
    assert zf.comment and all(i.flag_bits & 0x08 for i in zf.infolist())
    assert b"PK\x06\x06" in data  # the ZIP64 end record is there
    source = _source(data)
    assert [e.name for e in source.entries()] == ["A_MAIN.jpg", "B_MAIN.jpg"]
    with source.open(source.entries()[1]) as handle:
        assert handle.read()[:2] == b"\xff\xd8"


def test_it_still_reads_an_empty_zip_as_empty():
    assert _source(zip_bytes({})).entries() == []


@pytest.mark.django_db
def test_it_fails_the_import_of_a_cut_off_zip_and_imports_nothing(storage):
    ProductFactory(sku="OLD-1")
    upload = ContentFile(_truncated_after_nested_zip(), name="shoot.zip")
    job = import_job_create(user=None, source_kind="zip", source_file=upload, enqueue=False,
                            create_products=True)
    job = import_job_run(job_id=job.pk)
    assert job.status == "failed"
    assert job.message == ZIP_DAMAGED_REASON
    assert job.imported_count == 0
    rows = list(csv.DictReader(io.StringIO(import_job_report_csv(job=job))))
    assert not [r for r in rows if r["status"] == "stored"]


def test_it_marks_a_not_image_entry_as_a_skip_and_any_other_problem_as_a_refusal(tmp_path):
    """The import's level comes from the entry (``Entry.skipped``), not from its words: a skip
    is a warning, a refusal an error."""
    source = ZipSource(io.BytesIO(zip_bytes({"notes.txt": b"x", "../a.jpg": b"x",
                                             "inner.zip": b"x", "ok.jpg": b"x"})),
                       limits=LIMITS)
    assert {e.name: (bool(e.problem), e.skipped) for e in source.entries()} == {
        "notes.txt": (True, True), "../a.jpg": (True, False), "inner.zip": (True, False),
        "ok.jpg": (False, False)}
    (tmp_path / "notes.txt").write_bytes(b"x")
    (tmp_path / "inner.zip").write_bytes(b"x")
    (tmp_path / "ok.jpg").write_bytes(b"x")
    walked = FolderSource(tmp_path, limits=LIMITS).entries()
    assert {e.name: (bool(e.problem), e.skipped) for e in walked} == {
        "notes.txt": (True, True), "inner.zip": (True, False), "ok.jpg": (False, False)}
