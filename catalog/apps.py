from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_roles(sender, **kwargs) -> None:
    from .services.users import roles_ensure

    roles_ensure()


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Catalog"

    def ready(self) -> None:
        # Groups must exist before the first user is created, on every database.
        post_migrate.connect(_ensure_roles, sender=self)
        # Registers the import and bulk-edit job kinds with the one reconciler (catalog.jobs).
        from .services import imports, product_bulk  # noqa: F401
