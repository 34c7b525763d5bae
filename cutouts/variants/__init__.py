"""Marketplace variants and scenes: the spec language, layout, rendering, presets, naming, checks.

Also compliance and manifests. Pure Python + numpy + Pillow; no Django imports (the export
models call into this package).
"""

from catalog.ingest.manifest import csv_safe, csv_unescape

# the built-in operations register themselves on import, before anything parses a spec
from . import operations as operations
from . import scene as scene
from .compliance import (
    CHECKS_VERSION,
    ComplianceResult,
    ModelLicence,
    check_rendered,
    check_spec,
    check_variant,
    drops_parts,
    kept_shadow_left_out_said,
    kept_shadow_off,
    licence_warnings,
    rejudge_position,
    shadow_off_warning,
)
from .errors import ExportNamingError, MaxBytesError, RenderError, SpecError, VariantError
from .manifest import MANIFEST_COLUMNS, ManifestStatus, manifest_csv, manifest_row, verdict_status
from .naming import (
    Collision,
    build_name,
    can_name,
    field_label,
    find_collisions,
    identifier_groups,
    name_for,
    validate_template,
    windows_safe_path,
)
from .presets import PRESETS, SCENE_PRESETS, Preset, Rules, get_preset, with_background
from .render import RenderedVariant, SourceImage, render_variant, size_class
from .scene import SceneAsset, cover_fit, estimate_floor, estimate_light, scene_scale
from .spec import (
    CUTOUT_INPUT,
    OPERATIONS,
    RENDERER_VERSION,
    SHADOW_INPUT,
    Operation,
    RenderInputs,
    VariantSpec,
    as_spec,
    library_input,
    parse_spec,
    register_operation,
    rendition_key,
)

__all__ = [
    "CUTOUT_INPUT",
    "MANIFEST_COLUMNS",
    "ManifestStatus",
    "OPERATIONS",
    "RENDERER_VERSION",
    "CHECKS_VERSION",
    "PRESETS",
    "Collision",
    "ComplianceResult",
    "ExportNamingError",
    "MaxBytesError",
    "ModelLicence",
    "Operation",
    "Preset",
    "RenderError",
    "RenderInputs",
    "RenderedVariant",
    "Rules",
    "SCENE_PRESETS",
    "SHADOW_INPUT",
    "SceneAsset",
    "SourceImage",
    "SpecError",
    "VariantError",
    "VariantSpec",
    "as_spec",
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
    "library_input",
    "drops_parts",
    "kept_shadow_left_out_said",
    "kept_shadow_off",
    "licence_warnings",
    "rejudge_position",
    "shadow_off_warning",
    "manifest_csv",
    "manifest_row",
    "verdict_status",
    "name_for",
    "windows_safe_path",
    "field_label",
    "can_name",
    "identifier_groups",
    "parse_spec",
    "register_operation",
    "render_variant",
    "size_class",
    "rendition_key",
    "scene_scale",
    "validate_template",
    "with_background",
]
