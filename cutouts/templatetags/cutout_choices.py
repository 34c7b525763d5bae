"""The profile and model chooser that catalog pages embed in their selection forms: cutouts
contributes it here, so catalog templates offer it without catalog importing cutouts."""

from django import template
from django.conf import settings

from ..imaging.settings import PROFILES, SHADOW_MODES
from ..selectors.review import rerun_models

register = template.Library()


@register.inclusion_tag("cutouts/_cutout_chooser.html")
def cutout_chooser(recut: bool = True) -> dict:
    """Profiles, the models whose file is installed here (never the whole registry) and the
    shadow modes (the ones a re-run offers); with ``recut``, the "Cut again" box (a form
    that only cuts images without a cutout has nothing to cut again)."""
    return {"profiles": list(PROFILES), "models": rerun_models(),
            "default_model": settings.CUTROOM_MODEL, "shadow_modes": SHADOW_MODES,
            "recut": recut}
