from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _assets_deleted(sender, asset_ids=(), **kwargs):
    from .services.batches import cutouts_cancel_deleted

    cutouts_cancel_deleted(asset_ids=asset_ids)


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
        from catalog.signals import assets_deleted

        assets_deleted.connect(_assets_deleted, dispatch_uid="cutouts.cancel_deleted")
        # Registers cutout runs, batches and exports with the one reconciler (catalog.jobs).
        from .services import export_jobs, runs  # noqa: F401
