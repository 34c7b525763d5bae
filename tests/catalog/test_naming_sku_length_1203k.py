"""QA 1203k F3: a file name whose SKU is over the length limit was refused with "choose
'create products for unknown SKUs'", already ticked. It now gives the validator's rule, the
SKU it read and its length, in the import and in its preview."""

import io

import pytest

from catalog.ingest.naming import FilenameRules, Unmapped, file_target
from catalog.models import Product
from catalog.services.import_mapping import SKU_RULE
from catalog.services.imports import import_job_create, import_job_upload_file
from catalog.validators import SKU_MAX_LENGTH, SKU_RE
from tests.catalog.imagegen import jpeg_bytes

LONG = "SUMMER-2026-LONG-PRODUCT-NAME-WITH-VARIANT-COLOUR-NAVY-SIZE-XL-EXTRA"


def _target(name: str, *, create: bool):
    return file_target(name, rules=FilenameRules(), manifest=None, create=create,
                       state=lambda sku: None, valid=lambda sku: bool(SKU_RE.match(sku)),
                       sku_rule=SKU_RULE)


@pytest.mark.parametrize("create", [True, False])
def test_it_says_an_over_long_sku_is_too_long_not_unknown(create):
    assert len(LONG) == 68 > SKU_MAX_LENGTH
    with pytest.raises(Unmapped) as refused:
        _target(f"{LONG}_MAIN.jpg", create=create)
    reason = str(refused.value)
    assert reason.startswith(SKU_RULE)
    assert f"1-{SKU_MAX_LENGTH} characters" in reason
    assert f"This name gives {LONG} (68 characters)" in reason
    assert "create products for unknown SKUs" not in reason


def test_it_still_creates_a_sku_at_the_length_limit():
    sku = "A" * SKU_MAX_LENGTH
    target = _target(f"{sku}_MAIN.jpg", create=True)
    assert (target.sku, target.new) == (sku, True)
    assert Product._meta.get_field("sku").max_length == SKU_MAX_LENGTH


@pytest.mark.django_db
def test_it_refuses_an_uploaded_file_with_an_over_long_sku_by_the_rule(storage):
    job = import_job_create(user=None, source_kind="upload", expected_files=1,
                            create_products=True)
    result = import_job_upload_file(job_id=job.pk, fileobj=io.BytesIO(jpeg_bytes(seed=4)),
                                    filename=f"{LONG}_MAIN.jpg")
    assert result.status == "rejected"
    assert "(68 characters)" in result.reason and "Rename the file" not in result.reason
    assert "rename the file, or map it with a manifest row" in result.reason
    assert not Product.objects.exists()
