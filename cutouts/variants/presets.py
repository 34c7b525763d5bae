"""Built-in marketplace presets: a variant spec, a file-naming template and compliance rules.

The Django ``Preset`` model (editable in the admin) is seeded from :data:`PRESETS`; anything the
admin edits must still go through :func:`cutouts.variants.spec.parse_spec` and
:func:`cutouts.variants.naming.validate_template`.

Sources (checked 2026-11; marketplaces change these pages without notice — re-check yearly):

* [AMZ] Amazon Seller Central, "Product image requirements" (help page G1881) — main image on
  pure white RGB 255,255,255, product fills >= 85 % of the frame, longest side >= 1000 px for
  zoom (1600 px+ recommended), longest side <= 10,000 px, JPEG preferred (also PNG/TIFF/GIF),
  sRGB or CMYK colour mode, file named ``<ASIN/EAN/UPC>.<MAIN|PT01..PT08>.<ext>``.
* [EBAY] eBay "Picture policy", https://www.ebay.com/help/policies/listing-policies/picture-policy
  ?id=4370 — at least 500 px on the longest side, 1600 px recommended, no borders, no added
  text/artwork.
* [WMT] Walmart Marketplace Learn, "Product detail page: Image guidelines & requirements",
  https://marketplacelearn.walmart.com/guides/Item%20setup/Item%20content,%20imagery,%20and%20media
  /Product-detail-page:-Image-guidelines-&-requirements — JPEG/JPG/PNG/BMP, RGB, 8 bit, <= 5 MB,
  2200 x 2200 px, minimum 1500 x 1500 for zoom, 1:1 square, seamless white 255/255/255,
  14-digit GTIN recommended in the file name.
* [SHOP] Shopify Help Center, "Product media types and requirements",
  https://help.shopify.com/en/manual/products/product-media/product-media-types — 2048 x 2048 px
  square recommended for product images; files up to 20 MB (limit needs re-checking).
* [ETSY] Etsy Help, "How to add photos to your listing" — recommended 2000 px on the shortest
  side, 72 PPI.
* [GMC] Google Merchant Center Help, "Image link [image_link]",
  https://support.google.com/merchants/answer/6324350 — JPEG/PNG/WebP/GIF/BMP/TIFF, <= 16 MB,
  <= 64 megapixels, >= 100 x 100 px (250 x 250 apparel), larger images (1500 px) recommended,
  white, grey or transparent background preferred for the main image.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields

from .spec import FORMATS, VariantSpec, parse_spec

WHITE = "ffffff"
TRANSPARENT = "transparent"
WHITE_OR_TRANSPARENT = "white_or_transparent"

GENERIC_NAMING = "{sku}/{sku}_{position}_{preset}.{ext}"


@dataclass(frozen=True)
class Rules:
    """What :func:`cutouts.variants.compliance.check_variant` enforces for a preset.

    ``None`` disables a check. ``recommended_*`` only produce warnings.
    """

    background: str | None = None  # hex RRGGBB, TRANSPARENT or WHITE_OR_TRANSPARENT
    min_fill_pct: float | None = None
    min_long_side: int | None = None
    max_long_side: int | None = None
    min_short_side: int | None = None
    recommended_long_side: int | None = None
    recommended_short_side: int | None = None
    max_pixels: int | None = None
    square: bool = False
    formats: frozenset[str] = frozenset({"jpeg", "png", "webp", "avif"})
    require_srgb: bool = False
    max_bytes: int | None = None
    no_borders: bool = False
    #: EXIF/XMP allowed in the file (otherwise a warning; GPS is always an error)
    allow_metadata: bool = False

    def to_dict(self) -> dict:
        """JSON-friendly form (for a ``JSONField`` on the Django ``Preset`` model)."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["formats"] = sorted(self.formats)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> Rules:
        """Inverse of :meth:`to_dict`; unknown keys or bad values raise ``ValueError``."""
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown compliance rule(s): {', '.join(sorted(unknown))}")
        values = dict(data)
        if "formats" in values:
            formats = frozenset(values["formats"])
            bad = formats - set(FORMATS)
            if bad or not formats:
                raise ValueError(f"unknown or empty format list: {sorted(bad) or '[]'}")
            values["formats"] = formats
        bg = values.get("background")
        if bg not in (None, TRANSPARENT, WHITE_OR_TRANSPARENT) and not (
            isinstance(bg, str) and re.fullmatch(r"[0-9a-f]{6}", bg)
        ):
            raise ValueError(f"background must be RRGGBB hex (lower case), {TRANSPARENT!r}, "
                             f"{WHITE_OR_TRANSPARENT!r} or null, not {bg!r}")
        return cls(**values)


@dataclass(frozen=True)
class Preset:
    name: str
    label: str
    spec: str
    naming: str
    rules: Rules
    sources: tuple[str, ...] = field(default=())

    @property
    def variant_spec(self) -> VariantSpec:
        return parse_spec(self.spec)

    @property
    def extension(self) -> str:
        return self.variant_spec.extension


_PRESETS = (
    Preset(
        "amazon_main",
        "Amazon main image",
        # [AMZ] white, >= 85 % fill, square 2000 px (>= 1600 for zoom), JPEG, sRGB.
        # No shadow: many main-image reviews reject grey shadows on the white background.
        "trim|fill-85|square-2000|bg-ffffff|shadow-none|format-jpeg|quality-90|srgb",
        "{asin|sku}.{amazon_position}.{ext}",  # [AMZ] B0XXXXXXXX.MAIN.jpg, .PT01 .. .PT08
        Rules(
            background=WHITE,
            min_fill_pct=85,  # [AMZ] "product fills 85 % or more of the frame"
            min_long_side=1600,  # [AMZ] 1000 px enables zoom; the issue asks for >= 1600
            max_long_side=10_000,  # [AMZ] longest side at most 10,000 px
            formats=frozenset({"jpeg"}),  # [AMZ] JPEG preferred; the issue requires it
            require_srgb=True,  # [AMZ] sRGB (or CMYK, which we never produce)
        ),
        ("AMZ",),
    ),
    Preset(
        "ebay",
        "eBay",
        "trim|fill-85|square-1600|bg-ffffff|shadow-keep|format-jpeg|quality-90|srgb",
        GENERIC_NAMING,
        Rules(
            min_long_side=500,  # [EBAY] at least 500 px on the longest side
            recommended_long_side=1600,  # [EBAY] 1600 px recommended
            no_borders=True,  # [EBAY] no borders
            formats=frozenset({"jpeg", "png", "webp"}),
        ),
        ("EBAY",),
    ),
    Preset(
        "walmart",
        "Walmart",
        "trim|fill-85|square-2200|bg-ffffff|shadow-none|format-jpeg|quality-90|srgb"
        "|maxbytes-5000000",
        "{gtin}_{n}.{ext}",  # [WMT] GTIN recommended in the file name; n = 1 for the main image
        Rules(
            background=WHITE,  # [WMT] seamless white 255/255/255
            square=True,  # [WMT] 1:1
            min_long_side=1500,  # [WMT] minimum 1500 x 1500 for zoom
            recommended_long_side=2200,  # [WMT] 2200 x 2200
            max_bytes=5_000_000,  # [WMT] 5 MB or less (decimal, to be safe)
            formats=frozenset({"jpeg", "png"}),  # [WMT] JPEG/JPG/PNG/BMP
        ),
        ("WMT",),
    ),
    Preset(
        "shopify",
        "Shopify",
        "trim|fill-85|square-2048|bg-ffffff|shadow-keep|format-jpeg|quality-90|srgb",
        GENERIC_NAMING,
        Rules(
            square=True,  # [SHOP] square 2048 x 2048 recommended
            recommended_long_side=2048,
            max_bytes=20_000_000,  # [SHOP] 20 MB per file
        ),
        ("SHOP",),
    ),
    Preset(
        "etsy",
        "Etsy",
        "trim|fill-85|short-2000|bg-ffffff|shadow-keep|format-jpeg|quality-90|srgb|dpi-72",
        GENERIC_NAMING,
        Rules(
            recommended_short_side=2000,  # [ETSY] 2000 px on the shortest side, 72 PPI
            formats=frozenset({"jpeg", "png"}),
        ),
        ("ETSY",),
    ),
    Preset(
        "google_shopping",
        "Google Shopping",
        "trim|fill-85|square-1500|bg-ffffff|shadow-keep|format-jpeg|quality-90|srgb",
        GENERIC_NAMING,
        Rules(
            background=WHITE_OR_TRANSPARENT,  # [GMC] white/grey/transparent preferred
            min_long_side=100,  # [GMC] >= 100 x 100 (250 x 250 apparel)
            min_short_side=100,
            recommended_long_side=1500,  # [GMC] larger images recommended; issue: 1500+
            max_pixels=64_000_000,  # [GMC] <= 64 megapixels
            max_bytes=16_000_000,  # [GMC] <= 16 MB
            formats=frozenset({"jpeg", "png", "webp"}),
        ),
        ("GMC",),
    ),
    Preset(
        "transparent_png",
        "Transparent PNG master",
        "trim|bg-transparent|format-png|srgb",
        GENERIC_NAMING,
        Rules(background=TRANSPARENT, formats=frozenset({"png"}), require_srgb=True),
    ),
    Preset(
        "transparent_webp",
        "Transparent WebP master (lossless)",
        "trim|bg-transparent|format-webp|lossless|srgb",
        GENERIC_NAMING,
        Rules(background=TRANSPARENT, formats=frozenset({"webp"}), require_srgb=True),
    ),
)

PRESETS: dict[str, Preset] = {p.name: p for p in _PRESETS}


def get_preset(name: str) -> Preset:
    try:
        return PRESETS[name]
    except KeyError:
        raise KeyError(f"unknown preset {name!r} (known: {', '.join(PRESETS)})") from None
