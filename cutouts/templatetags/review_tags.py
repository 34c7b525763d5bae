"""Review page filters: an image named by SKU and position ("SHOE-77 · MAIN"), never by its id,
and a label looked up by key. Filters rather than includes: the queue renders them per row."""

from django import template
from django.utils import timezone

register = template.Library()


@register.filter
def image_title(asset) -> str:
    # the position as its code (MAIN, PT04, SWCH), as file names, manifests, the product page
    # and exports write it: "main" beside "PT04" read as two kinds of label (QA 2026-12-06)
    return f"{asset.product.sku} · {asset.position}"


@register.filter
def label_of(key: str, labels: dict) -> str:
    """``{{ key|label_of:labels }}``: the label of ``key``, or the key itself."""
    return labels.get(key, key)


@register.filter
def waited(cutout) -> str:
    """``{{ c|waited }}``: how long a version has been running (since its run started) or
    queued (since it was last queued: a retried or re-queued row waits from its retry, not
    from its creation), "12 s" / "1 min 05 s"; the pending notes poll every second, so a
    long Apply shows it is moving (QA: 40-60 s on a 24-45 MP photo with detail strokes under
    a bare spinner)."""
    if cutout.status == "running" and cutout.started_at:
        since = cutout.started_at
    else:
        times = [t for t in (cutout.created_at, getattr(cutout, "enqueued_at", None)) if t]
        since = max(times) if times else None
    if since is None:
        return ""
    seconds = max(0, int((timezone.now() - since).total_seconds()))
    return f"{seconds} s" if seconds < 60 else f"{seconds // 60} min {seconds % 60:02d} s"
