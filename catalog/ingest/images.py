"""Probe, validate and normalise one image file.

The order matters for safety and memory: the header is parsed first (``Image.open`` is lazy)
so decompression bombs and unsupported formats are refused before a single pixel is decoded;
only then is the image decoded once, and that decode both proves the file is complete and
feeds the working copy.
"""

from __future__ import annotations

import contextlib
import io
import mmap
import os
import struct
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO, cast

import numpy as np
import pillow_heif
import simplejpeg  # type: ignore[import-untyped]  # no stubs; libjpeg-turbo's warnings
from PIL import Image, ImageCms, ImageFile, ImageOps, UnidentifiedImageError

# The working copy's encoder and its setting live beside the writer, where the pure imaging
# package (which may import nothing else of catalog) reaches them too.
from . import png
from .png import WORKING_PNG_COMPRESS_LEVEL as WORKING_PNG_COMPRESS_LEVEL
from .png import WORKING_PNG_FILTER as WORKING_PNG_FILTER
from .png import encode_working as encode_working

# HEIC/HEIF from phones; AVIF is native in Pillow 12, so pillow-heif only adds HEIF.
pillow_heif.register_heif_opener()

# A truncated JPEG must fail to decode rather than be silently padded with grey.
ImageFile.LOAD_TRUNCATED_IMAGES = False

# Pillow plugins we let parse untrusted bytes. The JPEG plugin also opens multi-picture
# JPEGs from cameras, which Pillow then names MPO.
SUPPORTED_FORMATS = ("JPEG", "PNG", "WEBP", "TIFF", "HEIF", "AVIF")
SUPPORTED_LABEL = "JPEG, PNG, WebP, TIFF, HEIC/HEIF or AVIF"
IMAGE_EXTENSIONS = frozenset(
    {".jpg", ".jpeg", ".jpe", ".png", ".webp", ".tif", ".tiff", ".heic", ".heif", ".avif"}
)

# Magic numbers of formats we refuse, only to name them in the message.
_KNOWN_UNSUPPORTED = (
    (b"GIF8", "GIF"),
    (b"BM", "BMP"),
    (b"8BPS", "Photoshop PSD"),
    (b"%PDF", "PDF"),
    (b"PK\x03\x04", "ZIP archive"),
    (b"\x00\x00\x01\x00", "ICO"),
    (b"II*\x00\x10\x00\x00\x00CR", "Canon RAW"),
)

WORKING_FORMAT = "PNG"
WORKING_EXTENSION = ".png"
# Lossless, so the working copy adds no generation loss before matting and export (ΔE2000 = 0),
# and a PNG, so browsers show it as is (the review card's full-size original) and any side
# fits (lossless WebP method 0 is ~30% smaller at about the same CPU, but stops at 16,383 px).
# Written by our own streaming writer with the "up" filter on every row and zlib level 1
# (``png.encode_working``; why, in catalog/ingest/png.py).

SRGB_PROFILE = ImageCms.createProfile("sRGB")
SRGB_NAME = "sRGB IEC61966-2.1 (LittleCMS built-in)"
UNTAGGED_CMYK_NOTE = (
    "Untagged CMYK: no ICC profile embedded, converted with Pillow's naive CMYK→RGB formula "
    "(no press profile assumed); colours are approximate, check before approval."
)

#: An import warning, like CMYK's: a cut-out product on transparency is usually already done.
TRANSPARENCY_WARNING = (
    "Transparent original: flattened onto white for the working copy (what cutouts start "
    "from); the original, with its transparency, is kept unchanged."
)
TRANSPARENCY_NOTE = "Transparency flattened onto white."


#: ``ImageRejected.code`` of a file that is not a readable image (no header, a broken one,
#: broken or cut-short data): the reasons ``corrupt_reason`` words.
UNREADABLE_CODES = frozenset({"corrupt", "not_image", "truncated", "empty"})
#: Refusals of a file for its header alone (unreadable, or ``size_refusal``'s): an upload
#: gives these before any about its name or the catalog (``assets.asset_ingest``).
HEADER_CODES = UNREADABLE_CODES | {"too_small", "bomb"}


def corrupt_reason(detail: str) -> str:
    """The one wording of a file that is not a readable image, wherever it is found (the
    header probe, the decode, an import's file whose name maps to nothing): the file is the
    problem, whatever its name says."""
    return f"Not an image, or a corrupt one: {detail}"


#: The format an image file name promises, by its extension: what a file whose content is text
#: is said not to be (``text_content_reason``).
FORMAT_BY_EXTENSION = {".jpg": "JPEG", ".jpeg": "JPEG", ".jpe": "JPEG", ".png": "PNG",
                       ".webp": "WebP", ".tif": "TIFF", ".tiff": "TIFF", ".heic": "HEIC",
                       ".heif": "HEIF", ".avif": "AVIF"}
#: A file whose content is text (a note or a CSV renamed .jpg): refused here, and named so by
#: the upload preview before it is sent (upload.js ``contentRefusalReason``), ``{format}``
#: the extension's (QA41 L7: the ZIP preview listed such a file among unread TIFF/HEIC
#: headers).
#: In ``corrupt_reason``'s one wording of a file that is not a readable image.
TEXT_CONTENT_REASON = corrupt_reason("the file's content is text, not {format}.")
#: How many first bytes decide whether a file is text (``looks_like_text``; upload.js too).
TEXT_SNIFF_BYTES = 512


def looks_like_text(head: bytes) -> bool:
    """Whether ``head`` (a file's first bytes) reads as text: UTF-8 (a character cut at its
    end allowed) with no control character but tab, newlines and form feed."""
    for cut in range(4):
        try:
            text = head[:len(head) - cut].decode("utf-8")
        except UnicodeDecodeError:
            continue
        return bool(text) and not any(
            (c < " " and c not in "\t\n\r\f") or c == "\x7f" for c in text)
    return False


def text_content_reason(name: str) -> str:
    """``TEXT_CONTENT_REASON`` for a file called ``name``: "… text, not JPEG." for a .jpg."""
    ext = os.path.splitext(name or "")[1].lower()
    return TEXT_CONTENT_REASON.format(format=FORMAT_BY_EXTENSION.get(ext, "an image"))


#: A file of 0 bytes: refused here, and named so by the upload preview before it is sent.
EMPTY_REASON = corrupt_reason("the file is empty.")
#: A file whose first bytes are no supported format's and not text either: refused here
#: (``not_image_reason``), and named so by the upload preview before it is sent.
NO_HEADER_REASON = corrupt_reason(f"no {SUPPORTED_LABEL} header found.")


def not_image_reason(name: str, *, text: bool) -> str:
    """The one wording of a file called ``name`` whose first bytes are no supported format's:
    "… text, not JPEG." when they read as text (``looks_like_text``), else no header found.
    The import's refusal and the upload preview's (``selectors.import_preview``, told which
    such files read as text by the page) both come from here, so a text file named .jpg is
    worded alike before and after it is sent (QA 2026-12-07: the preview said "no … header
    found" of the file the report called "text, not JPEG")."""
    return text_content_reason(name) if text else NO_HEADER_REASON


class ImageRejected(Exception):
    """The file cannot become an asset; ``reason`` is shown to the user as is."""

    def __init__(self, reason: str, code: str):
        super().__init__(reason)
        self.reason = reason
        self.code = code


@dataclass(frozen=True)
class Limits:
    max_pixels: int = 80_000_000
    min_long_side: int = 500
    warn_long_side: int = 1000


@dataclass
class ProbeResult:
    format: str
    width: int
    height: int
    mode: str
    bits: int
    icc_profile: bytes | None
    icc_profile_name: str
    exif_orientation: int
    warnings: list[str] = field(default_factory=list)


@dataclass
class Normalized:
    """The working copy, 8-bit sRGB, EXIF-transposed."""

    image: Image.Image
    colour_note: str = ""
    colour_flagged: bool = False
    #: Said in the import report and the upload's answer, but not a colour flag.
    warnings: list[str] = field(default_factory=list)


def _sniff_supported(head: bytes) -> str | None:
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(png.SIGNATURE):
        return "PNG"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WebP"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "TIFF"
    if head[4:8] == b"ftyp":
        return "HEIC/AVIF"
    return None


def _sniff_unsupported(head: bytes) -> str | None:
    for magic, name in _KNOWN_UNSUPPORTED:
        if head.startswith(magic):
            return name
    if head.lstrip()[:5].lower() in (b"<?xml", b"<svg "):
        return "SVG"
    return None


def _bits(img: Image.Image) -> int:
    if img.mode.startswith("I;16") or img.mode == "I":
        return 16 if img.mode.startswith("I;16") else 32
    if img.mode == "F":
        return 32
    if img.mode == "1":
        return 1
    # 16-bit RGB PNG/TIFF load as 8-bit RGB in Pillow; the header still tells.
    tile = getattr(img, "tile", None) or []
    return 16 if tile and ";16" in str(tile[0].args) else 8


def profile_name(icc: bytes | None) -> str:
    if not icc:
        return ""
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        return (ImageCms.getProfileDescription(profile) or "").strip()[:200] or "(unnamed)"
    except (ImageCms.PyCMSError, OSError, TypeError, ValueError):
        return "(unreadable profile)"


def megapixels(pixels: int) -> str:
    """``108 MP``, ``0.3 MP``: how camera makers and photographers count."""
    value = pixels / 1_000_000
    return f"{value:.0f} MP" if value >= 10 else f"{value:.1f} MP"


def size_refusal(width: int, height: int, *, limits: Limits) -> tuple[str, str] | None:
    """The one size rule of an upload, (reason, code) or None: over ``limits.max_pixels``
    (code "bomb": memory, see docs/ingest.md) or a long side under ``limits.min_long_side``.
    Asked by the ingest on the header and by the upload preview on the sizes the page read
    from the files' headers, so the preview refuses what the ingest will, in its words."""
    pixels = width * height
    if pixels > limits.max_pixels:
        # the largest size of this shape that fits, so the manager knows what to export
        scale = (limits.max_pixels / pixels) ** 0.5
        fit_w, fit_h = max(1, int(width * scale)), max(1, int(height * scale))
        return (
            f"Too large: {width}×{height} px ({pixels:,} pixels, {megapixels(pixels)}) is over "
            f"the {megapixels(limits.max_pixels)} limit ({limits.max_pixels:,} pixels); it was "
            f"refused without decoding. Export it at most {fit_w}×{fit_h} px.",
            "bomb",
        )
    if max(width, height) < limits.min_long_side:
        return (
            f"Too small: {width}×{height}; the long side must be at least "
            f"{limits.min_long_side} px.",
            "too_small",
        )
    return None


def _declared_size(fileobj: BinaryIO) -> tuple[int, int] | None:
    """The size a supported header declares, read by its Pillow plugin directly: past
    ``Image.MAX_IMAGE_PIXELS``'s double ``Image.open`` refuses before telling it. Header only,
    nothing is decoded; None when no plugin reads it."""
    fileobj.seek(0)
    prefix = fileobj.read(16)
    try:
        for fmt in SUPPORTED_FORMATS:
            factory, accept = Image.OPEN.get(fmt, (None, None))
            if factory is None or (accept is not None and not accept(prefix)):
                continue
            fileobj.seek(0)
            try:
                size = factory(fileobj, "").size
            except (OSError, SyntaxError, ValueError, EOFError, TypeError, struct.error,
                    IndexError, KeyError):  # this plugin cannot read it: the next one may
                continue
            return (size[0], size[1]) if size[0] > 0 and size[1] > 0 else None
        return None
    finally:
        fileobj.seek(0)


def open_image(fileobj: BinaryIO, *, limits: Limits, name: str = ""
               ) -> tuple[Image.Image, ProbeResult]:
    """Parse the header only and refuse what must not be decoded. Leaves ``fileobj`` open.
    ``name``: the file's name, which a file of text is said not to be the format of."""
    fileobj.seek(0)
    head = fileobj.read(32)
    fileobj.seek(0)
    if not head:
        raise ImageRejected(EMPTY_REASON, "empty")
    try:
        with warnings.catch_warnings():
            # Our own pixel limit applies; Pillow's warning threshold would only add noise.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(fileobj, formats=SUPPORTED_FORMATS)
    except Image.DecompressionBombError:
        # over Pillow's own bound too: the size is read again without it, for the message
        size = _declared_size(fileobj)
        refusal = size_refusal(*size, limits=limits) if size else None
        raise ImageRejected(*(refusal or (
            f"Too large: the image declares more than {limits.max_pixels:,} pixels "
            f"({megapixels(limits.max_pixels)}, the limit); it was refused without decoding.",
            "bomb")))
    except UnidentifiedImageError:
        looks_like = _sniff_supported(head)
        if looks_like:
            raise ImageRejected(
                corrupt_reason(f"a {looks_like} file whose header cannot be read."), "corrupt"
            )
        other = _sniff_unsupported(head)
        if other:
            raise ImageRejected(
                f"Unsupported format ({other}); use {SUPPORTED_LABEL}.", "unsupported"
            )
        fileobj.seek(0)
        text = looks_like_text(fileobj.read(TEXT_SNIFF_BYTES))
        fileobj.seek(0)
        raise ImageRejected(not_image_reason(name, text=text), "not_image")
    except (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError) as exc:
        raise ImageRejected(corrupt_reason(f"its header cannot be read ({exc})."), "corrupt")

    bits = _bits(img)  # before anything that may decode and drop the tile descriptors
    width, height = img.size
    if width <= 0 or height <= 0:
        raise ImageRejected(corrupt_reason("its header gives a zero width or height."),
                            "corrupt")
    refusal = size_refusal(width, height, limits=limits)
    if refusal:
        raise ImageRejected(*refusal)
    long_side = max(width, height)
    warns = []
    if long_side < limits.warn_long_side:
        warns.append(
            f"Low resolution: {width}×{height}; marketplaces want at least "
            f"{limits.warn_long_side} px on the long side for zoom."
        )
    frames: int = getattr(img, "n_frames", 1)
    if frames > 1 and img.format not in ("MPO",):
        warns.append(f"{frames} frames/pages; only the first one is used.")
    icc = img.info.get("icc_profile") or None
    # PNG keeps EXIF after the pixel data, so asking for it would decode the whole image
    # here; normalize() reads the orientation of PNGs after the one real decode.
    orientation = 1 if img.format == "PNG" else read_orientation(img)
    probe = ProbeResult(
        format="JPEG" if img.format == "MPO" else str(img.format),
        width=width,
        height=height,
        mode=img.mode,
        bits=bits,
        icc_profile=icc,
        icc_profile_name=profile_name(icc),
        exif_orientation=orientation,
        warnings=warns,
    )
    return img, probe


def read_orientation(img: Image.Image) -> int:
    try:
        orientation = int(img.getexif().get(0x0112, 1) or 1)
    except Exception:  # noqa: BLE001 - a broken EXIF block must not sink a good image
        return 1
    return orientation if orientation in range(1, 9) else 1


def decode(img: Image.Image, *, source: BinaryIO | None = None) -> Image.Image:
    """Decode every pixel; a truncated or corrupt stream fails here, not later in a cutout.

    Use the image returned: a JPEG from ``source`` that lacks only its end marker (every
    scan complete, ``jpeg_end_marker_missing``) is decoded again with the marker added."""
    try:
        img.load()
    except Image.DecompressionBombError as exc:
        raise ImageRejected(f"Too large: {exc}", "bomb")
    except (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError) as exc:
        message = str(exc)
        if not ("truncated" in message.lower() or isinstance(exc, EOFError)):
            raise ImageRejected(corrupt_reason(
                f"its image data cannot be decoded ({message or type(exc).__name__})."),
                "corrupt")
    else:
        return img
    # Truncated. Out of the except block: its traceback holds Pillow's decoder, and with it
    # the failed decode's pixels (237 MB at 79 MP), which go before the check and the second
    # decode; not close(): Pillow would close the caller's stream.
    if source is not None and img.format in ("JPEG", "MPO"):
        img.im = Image.core.new(img.mode, (1, 1))
        whole = _jpeg_completed(source)
        if whole is not None:
            completed = Image.open(io.BytesIO(whole), formats=("JPEG",))
            del whole  # BytesIO shares the bytes; one copy of the file, not two
            return decode(completed)
    raise ImageRejected(
        corrupt_reason("the image data ends early (a truncated file: incomplete upload or "
                       "copy?)."),
        "truncated",
    )


#: The end-of-image marker; some phone, scanner and download tools leave it out.
_JPEG_EOI = b"\xff\xd9"
#: The warning of a JPEG stored although its end marker was missing (``decode``).
EOI_MISSING_WARNING = ("The JPEG's end marker is missing (the file stops right after its "
                       "last pixel, as some apps write it); every pixel is there.")


def _jpeg_completed(source: BinaryIO | None) -> bytes | None:
    """``source``'s bytes with the end marker added when that is all it lacks, else None."""
    if source is None:
        return None
    source.seek(0)
    data = source.read()
    source.seek(0)
    if not jpeg_end_marker_missing(data):
        return None
    data += _JPEG_EOI  # the only reference: CPython extends it in place where it can
    return data


def jpeg_end_marker_missing(data: bytes | mmap.mmap) -> bool:
    """Whether a JPEG that stops early lacks only its end-of-image marker: every scan it
    needs is there (``_jpeg_scans_complete``: a progressive JPEG cut between scans decodes
    blurred without a complaint) and, with the marker added, libjpeg decodes every MCU without
    running out of data (strict: its "premature end of data segment" warning is what a file
    cut inside a scan gives; Pillow would pad it with grey)."""
    if data[-2:] == _JPEG_EOI or not _jpeg_scans_complete(data):
        return False
    try:
        simplejpeg.decode_jpeg(data[:] + _JPEG_EOI, strict=True, **_EIGHTH)
    except ValueError:
        return False
    return True


_SOF_PROGRESSIVE = {0xC2, 0xC6, 0xCA, 0xCE}
_SOF = {0xC0, 0xC1, 0xC3, 0xC5, 0xC7, 0xC9, 0xCB, 0xCD} | _SOF_PROGRESSIVE


def _jpeg_scans_complete(data: bytes | mmap.mmap) -> bool:
    """Whether the scans in ``data`` cover the whole image: every component of the frame,
    and for a progressive JPEG every coefficient of every component down to its last bit
    (successive approximation ``Al`` 0). Reads the marker segments, skipping entropy data."""
    at, size = 2, len(data)
    if data[:2] != b"\xff\xd8":
        return False
    components: list[int] = []
    progressive = False
    lowest: dict[int, list[int]] = {}  # progressive: component -> each coefficient's Al
    covered: set[int] = set()
    while at + 4 <= size:
        if data[at] != 0xFF:
            return False
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        length = int.from_bytes(data[at + 2:at + 4], "big")
        body = data[at + 4:at + 2 + length]
        if len(body) != length - 2:
            return False  # cut inside a header: not a scan boundary
        if marker in _SOF:
            progressive = marker in _SOF_PROGRESSIVE
            components = [body[6 + 3 * i] for i in range(body[5])]
            lowest = {c: [99] * 64 for c in components}
        elif marker == 0xDA:
            count = body[0]
            ids = [body[1 + 2 * i] for i in range(count)]
            ss, se, al = body[1 + 2 * count], body[2 + 2 * count], body[3 + 2 * count] & 0x0F
            for c in ids:
                covered.add(c)
                if progressive and c in lowest:
                    for k in range(ss, min(se, 63) + 1):
                        lowest[c][k] = min(lowest[c][k], al)
            at += 2 + length
            # entropy data runs to the next marker that is not a stuffed 0x00 or a restart
            while True:
                at = data.find(b"\xff", at)
                if at < 0 or at + 1 >= size:
                    at = size
                    break
                if data[at + 1] == 0x00 or 0xD0 <= data[at + 1] <= 0xD7 or data[at + 1] == 0xFF:
                    at += 1 if data[at + 1] == 0xFF else 2
                    continue
                break
            continue
        at += 2 + length
    if not components or set(components) - covered:
        return False
    return not progressive or all(al == 0 for c in components for al in lowest[c])


#: The start of the import warning of a JPEG whose data libjpeg had to repair
#: (``jpeg_damage``); what follows is libjpeg's own words.
DAMAGED_PREFIX = "Image data may be damaged: "


def jpeg_damage(fileobj: BinaryIO, probe: ProbeResult) -> str:
    """A warning if a JPEG that decoded had corrupt data on the way ("Corrupt JPEG data: 632737
    extraneous bytes before marker 0xd9", "bad Huffman code"), else "". libjpeg recovers from
    such data (the rest of the image comes out shifted, striped or grey) and only warns, and
    Pillow discards libjpeg's warnings, so the scan is decoded again by libjpeg-turbo through
    simplejpeg, which reports them, at 1/8 scale (every coefficient is still read: ~6 ms at
    1200×900, ~57 ms at 24 MP). Nothing is refused for it: the file is all there, and the
    manager judges the picture. A truncated file never gets here: ``decode`` refuses it,
    unless all it lacks is its end marker (``EOI_MISSING_WARNING`` then)."""
    if probe.format != "JPEG":
        return ""
    with _file_buffer(fileobj) as data:
        try:
            simplejpeg.decode_jpeg(data, strict=True, **_EIGHTH)
        except ValueError as exc:
            if jpeg_end_marker_missing(data):  # what ``decode`` stored it for
                return EOI_MISSING_WARNING
            try:
                simplejpeg.decode_jpeg(data, strict=False, **_EIGHTH)
            except ValueError:
                return ""  # not a warning but what this decoder cannot do: Pillow's is the judge
            return (f"{DAMAGED_PREFIX}{exc}. The decoder recovered and the image is stored as "
                    "decoded; check it for shifted, striped or grey areas, and if it is damaged "
                    "upload the camera's original again.")
    return ""


#: simplejpeg scales down only to keep a minimum size: asked for at least 1×1 it decodes at
#: libjpeg's smallest scale, 1/8 (``min_factor`` alone decodes at full size)
_EIGHTH = {"colorspace": "GRAY", "min_height": 1, "min_width": 1}


@contextlib.contextmanager
def _file_buffer(fileobj: BinaryIO) -> Iterator[bytes | mmap.mmap]:
    """The whole of ``fileobj`` as one buffer, without a copy for a file on disk: it is
    mapped (the page cache holds it already), so a 50 MB JPEG costs no second 50 MB. Files
    kept in memory are small (Django's upload memory limit, ``SPOOL_BYTES``) and are read;
    a spooled file's descriptor is never asked for, since that would write it to disk. The
    file's position is left where it was."""
    raw = getattr(fileobj, "file", fileobj)  # Django's uploaded files wrap the real one
    if not isinstance(raw, io.BytesIO | tempfile.SpooledTemporaryFile):
        try:
            fd = raw.fileno()
        except (AttributeError, OSError, io.UnsupportedOperation):
            fd = -1
        if fd >= 0 and os.fstat(fd).st_size > 0:
            with mmap.mmap(fd, 0, access=mmap.ACCESS_READ) as mapped:
                yield mapped
            return
    position = fileobj.tell()
    fileobj.seek(0)
    data = fileobj.read()
    fileobj.seek(position)
    yield data


def _to_8bit(img: Image.Image) -> Image.Image:
    """Scale high-bit-depth single-channel modes; Pillow's convert() would clip them."""
    if img.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        arr = np.asarray(img).astype(np.uint32)
        if img.mode == "I" and arr.max(initial=0) <= 255:
            return Image.fromarray(arr.astype(np.uint8), "L")
        return Image.fromarray(np.clip(arr >> 8, 0, 255).astype(np.uint8), "L")
    if img.mode == "F":
        arr = np.asarray(img, dtype=np.float32)
        scale = 255.0 if arr.max(initial=0) <= 1.0 else 1.0
        return Image.fromarray(np.clip(arr * scale + 0.5, 0, 255).astype(np.uint8), "L")
    return img


def _flatten(img: Image.Image) -> tuple[Image.Image, str]:
    """Drop alpha on white: product shots with transparency are meant to be seen on white."""
    note = ""
    if img.mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    if img.mode in ("1",):
        img = img.convert("L")
    if img.mode in ("LA", "La", "PA"):
        img = img.convert("RGBA") if img.mode == "PA" else img.convert("LA")
    if img.mode in ("RGBA", "RGBa", "LA"):
        # Multi-band modes give one (min, max) pair per band; the last band is alpha.
        if img.getextrema()[-1][0] < 255:  # type: ignore[index]
            note = TRANSPARENCY_NOTE
        base_mode = "RGB" if img.mode.startswith("RGB") else "L"
        background = Image.new(base_mode, img.size, 255 if base_mode == "L" else (255, 255, 255))
        background.paste(img.convert(base_mode), mask=img.getchannel("A"))
        img = background
    if img.mode == "LAB":
        lab_to_srgb = ImageCms.buildTransform(
            ImageCms.createProfile("LAB"), SRGB_PROFILE, "LAB", "RGB"
        )
        # Not in place, so Pillow returns the new image (the stub also allows None).
        img = cast(Image.Image, ImageCms.applyTransform(img, lab_to_srgb))
    if img.mode not in ("RGB", "L", "CMYK"):
        img = img.convert("RGB")
    return img, note


_transform_cache: dict[tuple[bytes, str], ImageCms.ImageCmsTransform] = {}


def _transform(icc: bytes, mode: str) -> ImageCms.ImageCmsTransform:
    key = (icc, mode)
    cached = _transform_cache.get(key)
    if cached is None:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        # Perceptual where the profile has tables for it (LUT/CMYK profiles); matrix-shaper
        # RGB profiles only have colorimetric transforms, so relative colorimetric there.
        intent = ImageCms.Intent.PERCEPTUAL
        if ImageCms.isIntentSupported(source, intent, ImageCms.Direction.INPUT) != 1:
            intent = ImageCms.Intent.RELATIVE_COLORIMETRIC
        cached = ImageCms.buildTransform(source, SRGB_PROFILE, mode, "RGB", renderingIntent=intent)
        if len(_transform_cache) > 32:
            _transform_cache.clear()
        _transform_cache[key] = cached
    return cached


_PROFILE_SPACE = {"RGB": "RGB ", "CMYK": "CMYK", "L": "GRAY"}


def _profile_space(icc: bytes) -> str:
    return icc[16:20].decode("ascii", "replace") if len(icc) >= 20 else ""


def normalize(img: Image.Image, probe: ProbeResult) -> Normalized:
    """Decoded image → EXIF-transposed 8-bit sRGB ``RGB`` image."""
    if probe.format == "PNG":
        probe.exif_orientation = read_orientation(img)
    # In place: the non-in-place form copies even an upright image, and at 80 MP every
    # extra copy is hundreds of megabytes.
    ImageOps.exif_transpose(img, in_place=True)
    img = _to_8bit(img)
    img, alpha_note = _flatten(img)
    notes = [alpha_note] if alpha_note else []
    warnings = [TRANSPARENCY_WARNING] if alpha_note else []
    flagged = False
    icc = probe.icc_profile
    if icc and _profile_space(icc) != _PROFILE_SPACE.get(img.mode):
        notes.append(
            f"Embedded ICC profile ({probe.icc_profile_name}) does not match the {img.mode} "
            "pixels and was ignored."
        )
        flagged = True
        icc = None
    if icc:
        try:
            img = cast(Image.Image, ImageCms.applyTransform(img, _transform(icc, img.mode)))
        except (ImageCms.PyCMSError, OSError, ValueError) as exc:
            notes.append(f"Embedded ICC profile unreadable ({exc}); assumed sRGB.")
            flagged = True
            img = img.convert("RGB")
    elif img.mode == "CMYK":
        notes.append(UNTAGGED_CMYK_NOTE)
        flagged = True
        img = img.convert("RGB")
    elif img.mode != "RGB":
        # Untagged RGB and greyscale are taken as sRGB, as browsers and marketplaces do.
        img = img.convert("RGB")
    img.info.pop("icc_profile", None)
    return Normalized(image=img, colour_note=" ".join(notes), colour_flagged=flagged,
                      warnings=warnings)


def thumbnail(image: Image.Image, size: int) -> Image.Image:
    # A box-filter reduce first, so a big working copy is never copied at full size.
    factor = max(1, max(image.size) // (size * 2))
    thumb = image.reduce(factor) if factor > 1 else image.copy()
    thumb.thumbnail((size, size), Image.Resampling.LANCZOS)
    return thumb


def encode_thumbnail(image: Image.Image, out: BinaryIO) -> None:
    image.save(out, "WEBP", quality=82, method=4)
