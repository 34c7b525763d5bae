"""The profile and model chooser that catalog pages embed in their selection forms: cutouts
contributes it here, so catalog templates offer it without catalog importing cutouts."""

from django import template
from django.conf import settings

from ..imaging.settings import PROFILES
from ..selectors.review import rerun_models

register = template.Library()


@register.inclusion_tag("cutouts/_cutout_chooser.html")
def cutout_chooser() -> dict:
    """Profiles, and the models whose file is installed here (never the whole registry)."""
    return {"profiles": list(PROFILES), "models": rerun_models(),
            "default_model": settings.CUTROOM_MODEL}
