"""Exceptions raised by the variant pipeline (pure Python, no Django). None is a ValueError:
callers catch them by type (``VariantError`` for all)."""

from __future__ import annotations


class VariantError(Exception):
    """Base class for every error raised by :mod:`cutouts.variants`."""


class SpecError(VariantError):
    """A variant spec string is malformed; the message names the offending token."""

    def __init__(self, message: str, token: str | None = None):
        self.token = token
        super().__init__(message)


class RenderError(VariantError):
    """A valid spec cannot be applied to a particular cutout."""


class MaxBytesError(RenderError):
    """The encoded file cannot be brought under ``maxbytes`` by lowering the quality."""

    def __init__(self, message: str, *, limit: int, smallest: int, quality: int | None):
        self.limit = limit
        self.smallest = smallest
        self.quality = quality
        super().__init__(message)


class RulesError(VariantError):
    """A preset's compliance rules (admin-edited JSON) are malformed; the message names the
    offending rule."""


class ExportNamingError(VariantError):
    """An export file name cannot be built from a naming template and a product's
    identifiers (not the import's ``catalog.ingest.naming.NamingError``, which maps file
    names to products)."""


class EmptyNamingFieldError(ExportNamingError):
    """The naming template needs a field (or one of ``{a|b}``) the product has no value for:
    ``fields`` are the template's names, ``missing`` False when a value was there but was
    reduced to nothing by the file-name cleaning."""

    def __init__(self, message: str, *, fields: tuple[str, ...], missing: bool):
        self.fields = fields
        self.missing = missing
        super().__init__(message)
