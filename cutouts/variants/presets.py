"""Built-in marketplace presets: a variant spec, a file-naming template and compliance rules.

The Django ``Preset`` model (editable in the admin) is seeded from :data:`PRESETS`; anything the
admin edits must still go through :func:`cutouts.variants.spec.parse_spec` and
:func:`cutouts.variants.naming.validate_template`.

Sources (checked 2026-11; marketplaces change these pages without notice — re-check yearly):

* [AMZ] Amazon Seller Central, "Product image requirements" (help page G1881) — main image on
  pure white RGB 255,255,255, product fills >= 85 % of the frame, longest side >= 1000 px for
  zoom (1600 px+ recommended), longest side <= 10,000 px, JPEG preferred (also PNG/TIFF/GIF),
  sRGB or CMYK colour mode, the entire product in the frame (not cropped), file named
  ``<ASIN/EAN/UPC>.<MAIN|PT01..PT08>.<ext>``.
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
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from functools import cached_property
from typing import Any

from .errors import RulesError
from .spec import FORMATS, VariantSpec, parse_spec

WHITE = "ffffff"
TRANSPARENT = "transparent"
WHITE_OR_TRANSPARENT = "white_or_transparent"

GENERIC_NAMING = "{sku}/{sku}_{position}_{preset}.{ext}"
#: what every marketplace listing image needs whatever the marketplace's own numbers: the
#: product whole (not cut by the frame), a clean background (no ghosts) and no scene
MARKETPLACE: dict[str, Any] = {
    "product_clear_of_edges": True, "no_ghosts": True, "no_scenes": True,
}


def _listed(value: Any, rule: str) -> list[Any]:
    # Admin JSON: a bare string or number here would otherwise be split into characters or
    # fail with a TypeError the callers do not catch.
    if not isinstance(value, (list, tuple, set, frozenset)):
        raise RulesError(f"{rule} must be a list, not {value!r}")
    return list(value)


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
    #: accepted width:height ratios, e.g. ("4:3", "5:4"); empty = any (``square`` is 1:1)
    aspect_ratios: tuple[str, ...] = ()
    #: the product must not touch or be cut off by the canvas edge
    product_clear_of_edges: bool = False
    #: the marketplace requires the whole product in the frame of the main image: a product
    #: the photo's own frame cuts fails there (with only ``product_clear_of_edges`` it warns);
    #: other positions may be close-ups, where it says nothing (compliance ``position``)
    whole_product: bool = False
    #: no marks on the background away from the product (ghosts, detached blobs)
    no_ghosts: bool = False
    #: the spec must not compose a scene (library backgrounds, logos, scene shadows)
    no_scenes: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form (for a ``JSONField`` on the Django ``Preset`` model)."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["formats"] = sorted(self.formats)
        data["aspect_ratios"] = list(self.aspect_ratios)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Rules:
        """Inverse of :meth:`to_dict`; unknown keys or bad values raise :class:`RulesError`."""
        if not isinstance(data, Mapping):
            raise RulesError(f"rules must be a JSON object, not {type(data).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise RulesError(f"unknown compliance rule(s): {', '.join(sorted(unknown))}")
        values = dict(data)
        if "formats" in values:
            formats = frozenset(_listed(values["formats"], "formats"))
            unknown_formats = formats - set(FORMATS)
            if unknown_formats or not formats:
                raise RulesError(
                    f"unknown or empty format list: {sorted(unknown_formats) or '[]'}")
            values["formats"] = formats
        if "aspect_ratios" in values:
            ratios = tuple(_listed(values["aspect_ratios"] or (), "aspect_ratios"))
            bad = [r for r in ratios if not (isinstance(r, str) and re.fullmatch(
                r"[1-9][0-9]{0,3}:[1-9][0-9]{0,3}", r))]
            if bad:
                raise RulesError(f"aspect ratios must look like '4:3', not {bad!r}")
            values["aspect_ratios"] = ratios
        bg = values.get("background")
        if bg not in (None, TRANSPARENT, WHITE_OR_TRANSPARENT) and not (
            isinstance(bg, str) and re.fullmatch(r"[0-9a-f]{6}", bg)
        ):
            raise RulesError(f"background must be RRGGBB hex (lower case), {TRANSPARENT!r}, "
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

    @cached_property
    def variant_spec(self) -> VariantSpec:
        """The parsed spec, parsed on first use and kept: hand this object on to planning,
        rendering and checking instead of the string."""
        return parse_spec(self.spec)

    def checked(self) -> Preset:
        """This preset with its spec parsed now (raises :class:`SpecError`); the parsed spec
        stays on the preset for planning and rendering."""
        _ = self.variant_spec
        return self

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
        "{asin|sku}.{amazon_position}.{ext}",  # [AMZ] B0XXXXXXXX.MAIN.jpg, .PT01 .. .PT08, .SWCH
        Rules(
            background=WHITE,
            min_fill_pct=85,  # [AMZ] "product fills 85 % or more of the frame"
            min_long_side=1600,  # [AMZ] 1000 px enables zoom; the issue asks for >= 1600
            max_long_side=10_000,  # [AMZ] longest side at most 10,000 px
            formats=frozenset({"jpeg"}),  # [AMZ] JPEG preferred; the issue requires it
            require_srgb=True,  # [AMZ] sRGB (or CMYK, which we never produce)
            # [AMZ] the main image shows the entire product in the frame: a product cut by
            # the photo's edge is refused, not a matter of taste. Walmart's and Google's
            # published main-image rules ([WMT], [GMC]) state no such requirement (Google
            # lists it among best practices), so there it only warns.
            whole_product=True,
            **MARKETPLACE,
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
            **MARKETPLACE,
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
            **MARKETPLACE,
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
            **MARKETPLACE,
        ),
        ("SHOP",),
    ),
    Preset(
        "etsy",
        "Etsy",
        # A fixed 5:4 canvas: ``short-2000`` sized the canvas from the product's own ratio
        # (a car gave 4285 x 2000), outside the ratios Etsy's listing crops expect.
        "trim|fill-85|canvas-2500x2000|bg-ffffff|shadow-keep|format-jpeg|quality-90|srgb"
        "|dpi-72",
        GENERIC_NAMING,
        Rules(
            recommended_short_side=2000,  # [ETSY] 2000 px on the shortest side, 72 PPI
            aspect_ratios=("4:3", "5:4"),  # [ETSY] landscape 4:3 / 5:4 recommended
            formats=frozenset({"jpeg", "png"}),
            **MARKETPLACE,
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
            **MARKETPLACE,
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

#: Scene presets: common placements, each with a default safe area (``safe-N``: % of each
#: side kept free for text overlays and platform UI). Without a chosen library background
#: they render on white; an export swaps ``bg-ffffff`` for ``bg-<slug>``.
SCENE_RULES = Rules(formats=frozenset({"jpeg", "png", "webp"}), product_clear_of_edges=True)
SCENE_TAIL = "bg-ffffff|scale-90|shadow-contact|harmonize|format-jpeg|quality-88|srgb"
_SCENES = (
    Preset("web_hero", "Web hero banner 1920x600", f"canvas-1920x600|safe-8|{SCENE_TAIL}",
           GENERIC_NAMING, SCENE_RULES),
    Preset("social_square", "Square social post 1080x1080",
           f"canvas-1080x1080|safe-8|{SCENE_TAIL}", GENERIC_NAMING, SCENE_RULES),
    Preset("link_ad", "Link ad 1200x628", f"canvas-1200x628|safe-6|{SCENE_TAIL}",
           GENERIC_NAMING, SCENE_RULES),
    # stories: the top and bottom ~14 % hold the platform's own UI
    Preset("story", "Story 1080x1920", f"canvas-1080x1920|safe-14|{SCENE_TAIL}",
           GENERIC_NAMING, SCENE_RULES),
    Preset("pinterest", "Pinterest pin 1000x1500", f"canvas-1000x1500|safe-8|{SCENE_TAIL}",
           GENERIC_NAMING, SCENE_RULES),
)
SCENE_PRESETS = frozenset(p.name for p in _SCENES)

PRESETS: dict[str, Preset] = {p.name: p for p in (*_PRESETS, *_SCENES)}


def with_background(preset: Preset, slug: str) -> Preset:
    """A scene preset on a library background: its own name (``web_hero-oak``) so the files of
    each background land in their own folder and never collide."""
    spec = preset.variant_spec.with_tokens(f"bg-{slug}")
    return Preset(f"{preset.name}-{slug}", f"{preset.label} on {slug}", spec.canonical(),
                  preset.naming, preset.rules, preset.sources)


def get_preset(name: str) -> Preset:
    try:
        return PRESETS[name]
    except KeyError:
        raise KeyError(f"unknown preset {name!r} (known: {', '.join(PRESETS)})") from None
