"""Read a ZIP (or a server folder) one entry at a time, refusing unsafe entries.

Entries are never extracted by their own names: each is copied in chunks to an anonymous
temporary file, so a hostile name cannot write anywhere. Sizes come from the central
directory and are also enforced while copying, because a header can lie.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from .images import IMAGE_EXTENSIONS, SUPPORTED_LABEL

CHUNK = 1024 * 1024
# Spooled in memory up to this size, then on disk: a small JPEG never touches the disk.
SPOOL_BYTES = 4 * 1024 * 1024

ARCHIVE_EXTENSIONS = frozenset({".zip", ".jar", ".7z", ".rar", ".tar", ".gz", ".tgz", ".bz2"})
ARCHIVE_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"7z\xbc\xaf\x27\x1c", b"Rar!", b"\x1f\x8b")
#: A part of a path (a folder, or the file's own name) that is hidden or made by a system or
#: a tool, never a person's photo: a name starting with a dot (.DS_Store, macOS's ._IMG_1.jpg,
#: any .hidden.jpg, a .thumbs/ folder, QNAP's .@__thumb/; not "." or ".."), Thumbs.db,
#: desktop.ini, Synology's thumbnail folder @eaDir/, macOS's __MACOSX/ (at any depth: a
#: macOS ZIP unpacked and zipped again inside a shoot folder), matched ignoring case. A file
#: with such a part anywhere in its path (``is_hidden_path``) is silently passed over by every
#: import and never reported, and is never stored from a product page or the API; the upload
#: page gets this very pattern (data-ignored-name), tests every part of a path with it and
#: lists such files as ignored, not sent. Plain syntax on purpose: Python and JavaScript read
#: it alike.
IGNORED_NAME_PATTERN = r"^(\.(?!\.?$)|thumbs\.db$|desktop\.ini$|@eadir$|__macosx$)"
_IGNORED_NAME = re.compile(IGNORED_NAME_PATTERN, re.IGNORECASE)
MANIFEST_NAME = "manifest.csv"
#: The longest relative path (a folder upload's ``path``) an upload names a file by: the upload
#: page's requests are cut to it, the API refuses a longer one (a cut path names another file).
MAX_PATH_CHARS = 500
#: The reason a file is skipped for its name: one wording for a ZIP, a server folder, a browser
#: upload and the preview (the upload page gets it, and IMAGE_EXTENSIONS, as data attributes).
NOT_IMAGE_REASON = "Skipped: not an image file name ({ext})."
#: Image formats the import does not read, by extension: a skip names the format and what to
#: convert it to (QA38 L9: a .bmp was "not an image file name"), the accepted formats read
#: from ``images.SUPPORTED_LABEL``; the upload page gets these reasons as data too.
UNSUPPORTED_IMAGE_FORMATS = {".bmp": "BMP", ".dib": "BMP", ".gif": "GIF",
                             ".psd": "Photoshop PSD", ".ico": "ICO"}
UNSUPPORTED_IMAGE_REASON = ("Skipped: {format} images are not supported ({ext}); convert it "
                            f"to {SUPPORTED_LABEL}.")
#: Why a file whose path is the manifest's but for case (``Manifest.CSV`` beside
#: ``manifest.csv``, ``shoot/MANIFEST.csv`` beside ``shoot/manifest.csv``) is not read: one
#: manifest is read, the other skipped with a warning naming both (``second_manifest_reason``),
#: in these words for a ZIP, a server folder, a browser session, the preview and the upload
#: page's row (it gets them as data).
SECOND_MANIFEST_REASON = ("Skipped: a second manifest; {manifest} is the one read (the names "
                          "differ only in case). Keep one manifest.")
#: Why hidden and system files are passed over (never imported, never reported): the upload
#: page lists them in these words, as a drop otherwise lost them without one, and a product
#: page or API upload of one is refused in them.
IGNORED_REASON = ("Ignored: a hidden or system file or folder (a name starting with a dot, "
                  "such as .DS_Store, a ._ file or .thumbs/; Thumbs.db, desktop.ini, @eaDir/, "
                  "__MACOSX/); not imported.")
#: Why a whole ZIP is refused when its directory is missing or does not describe the file it
#: ends (one wording for the import and the upload page's preview, which gets it as data).
ZIP_DAMAGED_REASON = (
    "The ZIP is damaged or incomplete (cut off during download or copy?) — nothing was "
    "imported; upload it again."
)


class ArchiveError(Exception):
    """The whole archive is unusable (not a ZIP, over the total-size limit...)."""


@dataclass(frozen=True)
class ArchiveLimits:
    max_entry_bytes: int = 2 * 1024**3
    max_total_bytes: int = 50 * 1024**3
    max_ratio: int = 100
    max_entries: int = 100_000
    # Entries smaller than this are not refused one by one for their ratio (tiny files
    # compress unpredictably), but their bytes still count towards the two limits below.
    ratio_floor_bytes: int = 64 * 1024
    # Bytes that entries over the ratio limit may inflate to, all together: 3,000 small
    # zero-filled entries are a bomb even though each one is small.
    max_suspicious_bytes: int = 64 * 1024**2


def _ratio(uncompressed: int, compressed: int) -> float:
    return uncompressed / max(compressed, 1)


@dataclass
class Entry:
    """One candidate file. ``problem`` set means refuse it with that reason; ``skipped``: the
    problem is a skip (not an image file name: a warning), not a refusal (an error)."""

    name: str
    size: int
    problem: str = ""
    skipped: bool = False
    _zip_info: zipfile.ZipInfo | None = None
    _path: Path | None = None

    @property
    def basename(self) -> str:
        return PurePosixPath(self.name).name

    @property
    def folders(self) -> tuple[str, ...]:
        return PurePosixPath(self.name).parts[:-1]


def is_hidden_path(name: str) -> bool:
    """Whether any part of the path ``name`` (``/`` or ``\\``), a folder or the file's own
    name, is hidden or system (``IGNORED_NAME_PATTERN``): ``.thumbs/x.jpg`` as ``.x.jpg``.
    Never a path that climbs out (``..``) or starts at a root: that is refused as traversal
    (``unsafe_name_reason``) and reported, whatever its other parts, not passed over."""
    unified = name.replace("\\", "/")
    if unsafe_name_reason(unified):
        return False
    return any(_IGNORED_NAME.search(part) for part in PurePosixPath(unified).parts)


def unsafe_name_reason(name: str) -> str:
    """Why an archive member name is refused, or '' if it is a plain relative path."""
    if "\x00" in name:
        return "Refused: the name contains a NUL byte."
    unified = name.replace("\\", "/")
    if unified.startswith("/") or (len(unified) > 1 and unified[1] == ":"):
        return "Refused: absolute path in the archive (path traversal)."
    if any(part == ".." for part in unified.split("/")):
        return "Refused: '..' in the path (path traversal)."
    return ""


def name_order_key(name: str) -> tuple[str, ...]:
    """The order files take positions in when their names give none: by path, folder by
    folder, as a server folder is walked (``FolderSource`` sorts each folder's names), so a
    ZIP, a folder and a browser upload session give IMG_0001 the first free position
    whatever order the files arrive in."""
    return PurePosixPath(name.replace("\\", "/")).parts


def not_image_reason(name: str) -> str:
    """'' for an image file name (by extension), else why the file is skipped: an image
    format the import does not read is named, with what to convert it to."""
    suffix = PurePosixPath(name).suffix
    if suffix.lower() in IMAGE_EXTENSIONS:
        return ""
    if suffix.lower() in UNSUPPORTED_IMAGE_FORMATS:
        return unsupported_image_reason(suffix)
    return NOT_IMAGE_REASON.format(ext=suffix or "no extension")


def unsupported_image_reason(ext: str) -> str:
    """Why a file of an image format the import does not read (``ext``: ``.bmp``, any case)
    is skipped."""
    return UNSUPPORTED_IMAGE_REASON.format(format=UNSUPPORTED_IMAGE_FORMATS[ext.lower()],
                                           ext=ext)


def _nested_archive_reason(name: str) -> str:
    if _is_archive_name(name):
        return "Refused: nested archive; unpack it and upload its images instead."
    return ""


def manifest_path(names: Iterable[str]) -> str | None:
    """Which of an import's file paths is its manifest, or None: ``manifest.csv`` (any case)
    at the root, else in the single top folder every other file lies in (``shoot/manifest.csv``
    beside ``shoot/front/...``: what macOS's "Compress" makes of a folder, and what picking
    that folder on the upload page sends). Its rows name files relative to that folder, as
    they match the end of a path (``Manifest.row_for``). Hidden and system files
    (``__MACOSX/`` beside ``shoot/``) do not count as another folder. One rule for a ZIP, a
    server folder, a browser upload and the page's preview (upload.js ``manifestPathOf``,
    QA 2026-12-06 F2: a ZIP read only a root manifest, a picked folder any CSV); a
    manifest.csv deeper, or in one of several folders, is a file like any other."""
    tops: set[str] = set()
    nested = None
    for name in names:
        if name.endswith("/") or is_hidden_path(name) or unsafe_name_reason(name):
            continue  # a refused path (``../manifest.csv``: QA 2026-12-06) is no manifest
        parts = name.replace("\\", "/").split("/")
        if len(parts) == 1:
            if name.lower() == MANIFEST_NAME:
                return name
            tops.add("")  # a file at the root: no single top folder
            continue
        tops.add(parts[0])
        if len(parts) == 2 and parts[1].lower() == MANIFEST_NAME and nested is None:
            nested = name
    return nested if len(tops) == 1 else None


def is_ignored(name: str, *, manifest: str | None = MANIFEST_NAME) -> bool:
    """Hidden and system files (``is_hidden_path``) and the import's manifest (``manifest``:
    its path, ``manifest_path``; by default a root manifest.csv): never an entry, never
    reported. Only the manifest itself: a second one whose name differs only in case is
    reported (``is_second_manifest``)."""
    return is_hidden_path(name) or (manifest is not None and name == manifest)


def is_second_manifest(name: str, *, manifest: str | None) -> bool:
    """Whether ``name`` is a second manifest beside the import's (``manifest``: its path),
    the same path but for case (``Manifest.CSV`` beside ``manifest.csv``): the rule takes
    one (``manifest_path``: the first), and the other is not read. Until 2026-12-06 it was
    passed over without a word (qa34c #4)."""
    return (manifest is not None and name != manifest and name.lower() == manifest.lower()
            and not is_hidden_path(name))


def second_manifest_reason(manifest: str) -> str:
    """The warning of a second manifest (``is_second_manifest``), naming the one read."""
    return SECOND_MANIFEST_REASON.format(manifest=manifest)


#: ``NameProblem.kind``: passed over silently (hidden and system files, the manifest).
NAME_IGNORED = "ignored"
#: ... refused for its path (traversal, a NUL byte): the preview lists it apart.
NAME_UNSAFE = "unsafe"
#: ... refused: an archive inside the archive.
NAME_NESTED = "nested"
#: ... skipped with a warning: not an image file name.
NAME_NOT_IMAGE = "not-image"
#: ... skipped with a warning: a second manifest (``is_second_manifest``).
NAME_SECOND_MANIFEST = "second-manifest"


@dataclass(frozen=True)
class NameProblem:
    """Why an import does not take an entry, by its name alone (``entry_name_problem``)."""

    kind: str
    reason: str

    @property
    def skipped(self) -> bool:
        """A warning (not an image name, a second manifest) rather than a refusal; never for
        an ignored name."""
        return self.kind in (NAME_NOT_IMAGE, NAME_SECOND_MANIFEST)


def entry_name_problem(name: str, *, manifest: str | None = MANIFEST_NAME
                       ) -> NameProblem | None:
    """What a ZIP import does with an entry, judged by its name alone (what a browser can
    read from the central directory): None when it is imported, else its kind
    (``NAME_IGNORED``: passed over, never reported) and reason. ``ZipSource`` applies the
    same rules, with the checks that need the entry's header in between. The kind is
    returned so no caller asks a second rule what the reason was. ``manifest``: the import's
    manifest path (``manifest_path``), ignored too; a second one differing only in case is
    skipped with a warning naming it (``NAME_SECOND_MANIFEST``)."""
    if is_ignored(name, manifest=manifest):
        return NameProblem(NAME_IGNORED, IGNORED_REASON)
    if manifest is not None and is_second_manifest(name, manifest=manifest):
        return NameProblem(NAME_SECOND_MANIFEST, second_manifest_reason(manifest))
    for kind, reason in ((NAME_UNSAFE, unsafe_name_reason(name)),
                         (NAME_NESTED, _nested_archive_reason(name)),
                         (NAME_NOT_IMAGE, not_image_reason(name))):
        if reason:
            return NameProblem(kind, reason)
    return None


def _skip_reason(name: str, *, manifest: str | None) -> str:
    """Why an import skips an entry with a warning (``NameProblem.skipped``): a second
    manifest beside ``manifest``, else not an image name; '' when it does not."""
    if is_second_manifest(name, manifest=manifest):
        assert manifest is not None
        return second_manifest_reason(manifest)
    return not_image_reason(name)


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    return stat.S_ISLNK(info.external_attr >> 16)


def _is_archive_name(name: str) -> bool:
    return PurePosixPath(name.lower()).suffix in ARCHIVE_EXTENSIONS


def _files(count: int) -> str:
    # "1 file", "2 files" (QA 2026-12-07 qa42c L4: "1 files compressed more than 100:1")
    return f"{count:,} file{'' if count == 1 else 's'}"


def bomb_reason(sizes: Sequence[tuple[str, int, int]], limits: ArchiveLimits) -> str:
    """Why an archive is refused whole from its central directory, before inflating a byte,
    or "". ``sizes`` are (name, uncompressed, compressed) of its file entries: a ZIP's
    (``ZipSource``), or the ones the upload page read from the directory for the preview
    (views.import_preview), so the preview refuses what the import would (QA 2026-12-05 L2:
    a bomb entry beside a good file previewed "2 of 2 files" and the import then failed).

    Declared sizes are trustworthy here because ``ZipSource.open`` never inflates more than
    an entry declares. Three limits: the total size, the whole archive's ratio, and the bytes
    of all over-ratio entries together, small ones included. A ratio refusal names the most
    compressed entry, so the one to take out is known.
    """
    total = sum(size for _name, size, _packed in sizes)
    if total > limits.max_total_bytes:
        return (f"Zip bomb refused: the ZIP expands to {total:,} bytes, over the limit of "
                f"{limits.max_total_bytes:,}.")
    packed = sum(p for _name, _size, p in sizes)
    overall = _ratio(total, packed)
    over = [s for s in sizes if _ratio(s[1], s[2]) > limits.max_ratio]
    suspicious = sum(size for _name, size, _packed in over)
    reason = ""
    if total > limits.max_suspicious_bytes and overall > limits.max_ratio:
        reason = (f"Zip bomb refused: the ZIP's {_files(len(sizes))} "
                  f"expand{'s' if len(sizes) == 1 else ''} {overall:,.0f}:1 "
                  f"({packed:,} bytes to {total:,}), over the limit of {limits.max_ratio}:1.")
    elif suspicious > limits.max_suspicious_bytes:
        reason = (f"Zip bomb refused: {_files(len(over))} compressed more than "
                  f"{limits.max_ratio}:1 would expand to {suspicious:,} bytes, over the limit "
                  f"of {limits.max_suspicious_bytes:,}.")
    if reason and over:
        name, size, p = max(over, key=lambda s: (_ratio(s[1], s[2]), s[1]))
        reason += f" Most compressed: {name} ({size:,} bytes, {_ratio(size, p):,.0f}:1)."
    return reason


def _check_bomb(infos: list[zipfile.ZipInfo], limits: ArchiveLimits) -> None:
    reason = bomb_reason([(i.filename, i.file_size, i.compress_size) for i in infos], limits)
    if reason:
        raise ArchiveError(reason)


def _starts_like_a_zip(fileobj: BinaryIO) -> bool:
    try:
        fileobj.seek(0)
        return fileobj.read(4) == b"PK\x03\x04"
    except (OSError, ValueError):
        return False


def _directory_describes_file(zf: zipfile.ZipFile, fileobj: BinaryIO) -> bool:
    """Whether the central directory zipfile found belongs to this file from byte 0.

    zipfile takes the *last* end-of-directory record in the final 64 kB and, when the offsets
    it declares do not add up, assumes data was prepended and re-bases every entry. A ZIP cut
    off after a stored nested ZIP ends with the nested one's directory: re-based, it reads as
    that small archive, and the outer entries vanish without a word. So the first entry must
    start at byte 0, and the first and last entries' offsets must land on local headers (two
    reads, not one per entry: the archive may be remote storage; a bad entry in between is
    still refused alone when it is opened).
    """
    infos = zf.infolist()
    if not infos:
        # an empty ZIP is its 22-byte record alone; anything before it was not described
        return zf.start_dir == 0
    offsets = sorted({i.header_offset for i in infos})
    if offsets[0] != 0:
        return False
    try:
        for offset in (offsets[0], offsets[-1]):
            fileobj.seek(offset)
            if fileobj.read(4) != b"PK\x03\x04":
                return False
    except (OSError, ValueError):
        return False
    return True


class ZipSource:
    """Iterate a ZIP's entries in order; open each one as a temporary file."""

    kind = "zip"

    def __init__(self, fileobj: BinaryIO, *, limits: ArchiveLimits):
        try:
            self.zip = zipfile.ZipFile(fileobj)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            if _starts_like_a_zip(fileobj):
                # a ZIP's first entry but no directory: the end of the file is missing
                raise ArchiveError(ZIP_DAMAGED_REASON) from exc
            raise ArchiveError(f"Not a readable ZIP file: {exc}") from exc
        self.limits = limits
        if not _directory_describes_file(self.zip, fileobj):
            self.zip.close()
            raise ArchiveError(ZIP_DAMAGED_REASON)
        infos = [i for i in self.zip.infolist() if not i.is_dir()]
        if len(infos) > limits.max_entries:
            raise ArchiveError(
                f"The ZIP has {len(infos):,} files; the limit is {limits.max_entries:,}."
            )
        _check_bomb(infos, limits)
        self._infos = infos
        #: The manifest's path in the archive (``manifest_path``), or None.
        self.manifest_name = manifest_path(i.filename for i in infos)

    def close(self) -> None:
        self.zip.close()

    def manifest(self) -> bytes | None:
        for info in self._infos:
            if info.filename == self.manifest_name and not _is_symlink(info):
                if info.file_size > 50 * 1024**2:
                    raise ArchiveError(f"{info.filename} is over 50 MB.")
                with self.zip.open(info) as handle:
                    return handle.read(info.file_size + 1)
        return None

    def entries(self) -> list[Entry]:
        """The entries in name order (``name_order_key``), not the archive's: files without a
        position take the free ones in this order."""
        result = []
        for info in sorted(self._infos, key=lambda i: name_order_key(i.filename)):
            name = info.filename
            if is_ignored(name, manifest=self.manifest_name):
                continue
            entry = Entry(name=name, size=info.file_size, _zip_info=info)
            if refusal := self._refusal(info):
                entry.problem = refusal
            elif reason := _skip_reason(name, manifest=self.manifest_name):
                entry.problem, entry.skipped = reason, True
            result.append(entry)
        return result

    def _refusal(self, info: zipfile.ZipInfo) -> str:
        reason = unsafe_name_reason(info.filename)
        if reason:
            return reason
        if _is_symlink(info):
            return "Refused: symbolic link in the archive."
        if info.flag_bits & 0x1:
            return "Refused: encrypted entry."
        if reason := _nested_archive_reason(info.filename):
            return reason
        if info.file_size > self.limits.max_entry_bytes:
            return (
                f"Refused: {info.file_size:,} bytes is over the per-file limit of "
                f"{self.limits.max_entry_bytes:,}."
            )
        ratio = _ratio(info.file_size, info.compress_size)
        if info.file_size > self.limits.ratio_floor_bytes and ratio > self.limits.max_ratio:
            return (
                f"Zip bomb refused: compression ratio {ratio:.0f}:1 is over the limit of "
                f"{self.limits.max_ratio}:1."
            )
        return ""

    def open(self, entry: Entry) -> BinaryIO:
        """Copy the entry in chunks to a temporary file, refusing more bytes than declared."""
        assert entry._zip_info is not None
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
        try:
            with self.zip.open(entry._zip_info) as handle:
                copied = 0
                while chunk := handle.read(CHUNK):
                    copied += len(chunk)
                    if copied > entry.size or copied > self.limits.max_entry_bytes:
                        raise ArchiveError("Refused: the entry is larger than its header says.")
                    spool.write(chunk)
                    if copied == len(chunk) and chunk[:4] in ARCHIVE_MAGICS[:2]:
                        raise ArchiveError("Refused: nested archive inside the ZIP.")
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError,
                zlib.error) as exc:
            spool.close()
            raise ArchiveError(f"Corrupt ZIP entry: {exc}")
        except NotImplementedError as exc:  # compression methods zipfile lacks (e.g. PPMd)
            spool.close()
            raise ArchiveError(f"Unsupported ZIP entry: {exc}")
        except ArchiveError:
            spool.close()
            raise
        spool.seek(0)
        return spool  # type: ignore[return-value]


class FolderSource:
    """A folder on the server (management command only), walked without following links."""

    kind = "folder"

    def __init__(self, root: str | os.PathLike[str], *, limits: ArchiveLimits):
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise ArchiveError(f"Not a folder: {root}")
        self.limits = limits
        self._paths: list[Path] | None = None
        self._manifest_name: str | None = None

    def close(self) -> None:
        pass

    def _files(self) -> list[Path]:
        """The folder's paths, walked once (the manifest's rule needs them all)."""
        if self._paths is None:
            self._paths = list(self._walk(self.root))
            self._manifest_name = manifest_path(
                path.relative_to(self.root).as_posix() for path in self._paths)
        return self._paths

    @property
    def manifest_name(self) -> str | None:
        """The manifest's path in the folder (``manifest_path``), or None."""
        self._files()
        return self._manifest_name

    def manifest(self) -> bytes | None:
        if self.manifest_name is None:
            return None
        path = self.root / self.manifest_name
        if path.is_file() and not path.is_symlink():
            return path.read_bytes()
        return None

    def _walk(self, folder: Path) -> Iterator[Path]:
        with os.scandir(folder) as it:
            # the same order as name_order_key: each folder's names sorted, depth first
            items = sorted(it, key=lambda e: e.name)
        for item in items:
            if item.is_dir(follow_symlinks=False):
                yield from self._walk(Path(item.path))
            else:
                yield Path(item.path)

    def entries(self) -> list[Entry]:
        result = []
        for path in self._files():
            rel = path.relative_to(self.root).as_posix()
            if is_ignored(rel, manifest=self.manifest_name):
                continue
            entry = Entry(name=rel, size=0, _path=path)
            if path.is_symlink():
                entry.problem = "Refused: symbolic link."
            elif not path.is_file():
                entry.problem = "Refused: not a regular file."
            else:
                entry.size = path.stat().st_size
                if _is_archive_name(rel):
                    entry.problem = "Refused: nested archive; unpack it first."
                elif entry.size > self.limits.max_entry_bytes:
                    entry.problem = (
                        f"Refused: {entry.size:,} bytes is over the per-file limit of "
                        f"{self.limits.max_entry_bytes:,}."
                    )
                elif reason := _skip_reason(rel, manifest=self.manifest_name):
                    entry.problem, entry.skipped = reason, True
            result.append(entry)
        return result

    def open(self, entry: Entry) -> BinaryIO:
        assert entry._path is not None
        return open(entry._path, "rb")  # noqa: SIM115
