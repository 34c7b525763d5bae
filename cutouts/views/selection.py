"""Acting on a selection made on catalog pages (products or images, or every product a list
filter matches): start cutouts (a new version of each image, so also re-runs) with a chosen
profile and installed model, or open the export form for the selection."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from catalog import roles
from catalog import selectors as catalog_selectors
from catalog.ids import ids_from
from catalog.permissions import capability_required

from ..errors import BatchError
from ..selectors.jobs import assets_for_cutout
from ..selectors.review import rerun_models
from ..services.batches import batch_overrides, cutout_batch_start
from .jobs import _safe_next, after_batch_start

# The export form takes SKUs in its query string; past this a URL gets too long to trust.
MAX_EXPORT_SKUS = 500


def _selected_assets(request: HttpRequest):
    if request.POST.get("all_matching") == "1":
        return assets_for_cutout(
            product_ids=catalog_selectors.product_ids_matching(
                **catalog_selectors.product_filters(request.POST)))
    return assets_for_cutout(
        asset_ids=ids_from(request.POST.getlist("asset")),
        skus=[v[:64] for v in request.POST.getlist("sku")][:10_000],
    )


@capability_required(roles.RUN_CUTOUTS)
@require_POST
def selection_cutouts(request: HttpRequest) -> HttpResponse:
    back = _safe_next(request, fallback=reverse("catalog:product_list"))
    model = request.POST.get("model", "")
    if model not in rerun_models():
        messages.error(request, f"Model {model!r} is not installed here.")
        return redirect(back)
    assets = list(_selected_assets(request))
    if not assets:
        messages.error(request, "Select at least one product or image that has images.")
        return redirect(back)
    products = len({a.product_id for a in assets})
    try:
        batch = cutout_batch_start(
            assets=assets, user=request.user, model=model,
            profile_name=request.POST.get("profile", "default")[:40],
            overrides=batch_overrides(shadow=request.POST.get("shadow", "")[:20]),
            label=f"Selection: {products} product{'s' if products != 1 else ''}, "
                  f"{len(assets)} image{'s' if len(assets) != 1 else ''}",
            recut=request.POST.get("recut") == "1",
        )
    except BatchError as exc:
        messages.error(request, f"Could not start cutouts: {exc}")
        return redirect(back)
    return after_batch_start(request, batch, f"{batch.profile}, {model}")


@capability_required(roles.EXPORT)
@require_POST
def selection_export(request: HttpRequest) -> HttpResponse:
    """The export form, filled in with the selected products' SKUs."""
    back = _safe_next(request, fallback=reverse("catalog:product_list"))
    skus = sorted({a.product.sku for a in _selected_assets(request)})
    if not skus:
        messages.error(request, "Select at least one product that has images.")
        return redirect(back)
    if len(skus) > MAX_EXPORT_SKUS:
        messages.error(request, f"{len(skus)} products selected; export at most "
                                f"{MAX_EXPORT_SKUS} at a time, or export by brand.")
        return redirect(back)
    return redirect(f"{reverse('cutouts:export_list')}?{urlencode({'sku': skus}, doseq=True)}")
