"""Marketplace variants: spec language, rendering, presets, naming, compliance, manifests.

Pure Python + numpy + Pillow; no Django imports (the export models call into this package).
"""

from .compliance import (
    ComplianceResult,
    ModelLicence,
    check_rendered,
    check_variant,
    licence_warnings,
)
from .errors import MaxBytesError, NamingError, RenderError, SpecError, VariantError
from .manifest import MANIFEST_COLUMNS, csv_safe, csv_unescape, manifest_csv, manifest_row
from .naming import Collision, build_name, find_collisions, name_for, validate_template
from .presets import PRESETS, Preset, Rules, get_preset
from .render import RenderedVariant, render_variant
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
    "SpecError",
    "VariantError",
    "VariantSpec",
    "build_name",
    "check_rendered",
    "check_variant",
    "csv_safe",
    "csv_unescape",
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
]
