from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _seed_presets(sender, app_config=None, apps=None, using="default", **kwargs):
    # The historical model: this also runs after partial migrations, before Preset exists.
    try:
        model = (apps or app_config.apps).get_model("cutouts", "Preset")
    except LookupError:
        return
    from .services.renditions import preset_seed

    preset_seed(model=model, using=using)


class CutoutsConfig(AppConfig):
    name = "cutouts"
    verbose_name = "Cutouts"

    def ready(self) -> None:
        post_migrate.connect(_seed_presets, sender=self,
                             dispatch_uid="cutouts.seed_presets")
        # Registers cutout runs, batches and exports with the one reconciler (catalog.jobs).
        from .services import export_jobs, runs  # noqa: F401
