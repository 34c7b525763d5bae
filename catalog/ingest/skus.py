"""The one SKU rule: what ``catalog.validators.validate_sku`` (every product a form, the API or
an import creates) and ``manifest.parse_manifest`` (a manifest's rows, before anything is
stored) both check. Pure, so the manifest parser can use it without Django."""

from __future__ import annotations

import re

#: The longest SKU: the model's column, the API's field, the validator and its wording.
SKU_MAX_LENGTH = 64
# SKUs end up in file names and URLs: letters, digits, '.', '_' and '-' only.
SKU_RE = re.compile(rf"^[A-Za-z0-9][A-Za-z0-9._-]{{0,{SKU_MAX_LENGTH - 1}}}$")
#: why a SKU is refused, in the words every refusal of one uses
SKU_RULE = (
    f"SKU must be 1-{SKU_MAX_LENGTH} characters: letters, digits, '.', '_' or '-', "
    "starting with a letter or digit."
)


def sku_valid(value: str | None) -> bool:
    """Whether ``value`` is a SKU a new product may have (``SKU_RULE``)."""
    return bool(SKU_RE.match(value or ""))
