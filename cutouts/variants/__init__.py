"""Marketplace variants and scenes: spec language, layout, rendering, presets, naming,
compliance, manifests.

Pure Python + numpy + Pillow; no Django imports (the export models call into this package).
"""

from .compliance import (
    ComplianceResult,
    ModelLicence,
    check_rendered,
    check_spec,
    check_variant,
    licence_warnings,
)
from .errors import MaxBytesError, NamingError, RenderError, SpecError, VariantError
from .manifest import MANIFEST_COLUMNS, csv_safe, csv_unescape, manifest_csv, manifest_row
from .naming import Collision, build_name, find_collisions, name_for, validate_template
from .presets import PRESETS, SCENE_PRESETS, Preset, Rules, get_preset, with_background
from .render import RenderedVariant, render_variant
from .scene import SceneAsset, cover_fit, estimate_floor, estimate_light  # registers scene ops
from .spec import OPERATIONS, Operation, VariantSpec, parse_spec, register_operation

__all__ = [
    "MANIFEST_COLUMNS",
    "OPERATIONS",
    "PRESETS",
    "Collision",
    "ComplianceResult",
    "MaxBytesError",
    "ModelLicence",
    "NamingError",
    "Operation",
    "Preset",
    "RenderError",
    "RenderedVariant",
    "Rules",
    "SCENE_PRESETS",
    "SceneAsset",
    "SpecError",
    "VariantError",
    "VariantSpec",
    "build_name",
    "check_rendered",
    "check_spec",
    "check_variant",
    "cover_fit",
    "csv_safe",
    "csv_unescape",
    "estimate_floor",
    "estimate_light",
    "find_collisions",
    "get_preset",
    "licence_warnings",
    "manifest_csv",
    "manifest_row",
    "name_for",
    "parse_spec",
    "register_operation",
    "render_variant",
    "validate_template",
    "with_background",
]
