"""Identifier validators. Each raises ValidationError with a message fit for the UI."""

import re

from django.core.exceptions import ValidationError

# SKU_MAX_LENGTH and SKU_RE: still read from here by the model, the API and the import
from .ingest.skus import SKU_MAX_LENGTH as SKU_MAX_LENGTH
from .ingest.skus import SKU_RE as SKU_RE
from .ingest.skus import SKU_RULE, sku_valid

ASIN_RE = re.compile(r"^B0[A-Z0-9]{8}$")
GTIN_LENGTHS = {8: "EAN-8", 12: "UPC-A", 13: "EAN-13", 14: "GTIN-14"}


def validate_sku(value: str) -> None:
    # the one rule, shared with the manifest's up-front check (``catalog.ingest.skus``)
    if not sku_valid(value):
        raise ValidationError(SKU_RULE, code="invalid_sku")


def gs1_check_digit(body: str) -> int:
    """GS1 mod-10: weights 3,1,3,... from the right of the digits before the check digit."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def validate_gtin(value: str) -> None:
    if not value.isdigit() or len(value) not in GTIN_LENGTHS:
        raise ValidationError(
            "GTIN must be 8, 12, 13 or 14 digits (EAN-8, UPC-A, EAN-13, GTIN-14).",
            code="invalid_gtin",
        )
    expected = gs1_check_digit(value[:-1])
    if int(value[-1]) != expected:
        raise ValidationError(
            f"{GTIN_LENGTHS[len(value)]} {value} has a wrong check digit (expected {expected}).",
            code="gtin_check_digit",
        )


def isbn10_check_char(body: str) -> str:
    total = sum((10 - i) * int(d) for i, d in enumerate(body))
    check = (11 - total % 11) % 11
    return "X" if check == 10 else str(check)


def validate_asin(value: str) -> None:
    """ASINs are B0 + 8 characters (no check digit), or an ISBN-10 for books (which has one)."""
    if ASIN_RE.match(value):
        return
    if re.match(r"^[0-9]{9}[0-9X]$", value):
        expected = isbn10_check_char(value[:9])
        if value[-1] != expected:
            raise ValidationError(
                f"ASIN {value} looks like an ISBN-10 but its check digit should be {expected}.",
                code="asin_check_digit",
            )
        return
    raise ValidationError(
        "ASIN must be 10 characters: 'B0' plus 8 letters/digits, or an ISBN-10 for books.",
        code="invalid_asin",
    )


def clean_identifier(value: str | None) -> str:
    """People paste GTINs with spaces or dashes and ASINs in lower case."""
    return re.sub(r"[\s-]", "", value or "").upper()
