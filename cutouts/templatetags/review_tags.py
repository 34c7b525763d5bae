"""Review page filters: an image named by SKU and position ("SHOE-77 · main"), never by its id,
and a label looked up by key. Filters rather than includes: the queue renders them per row."""

from django import template

register = template.Library()


@register.filter
def image_title(asset) -> str:
    position = asset.position
    return f"{asset.product.sku} · {'main' if position == 'MAIN' else position}"


@register.filter
def label_of(key: str, labels: dict) -> str:
    """``{{ key|label_of:labels }}``: the label of ``key``, or the key itself."""
    return labels.get(key, key)
