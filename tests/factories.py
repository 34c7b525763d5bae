import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from catalog.roles import MANAGER, REVIEWER
from catalog.services.users import roles_ensure

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if extracted:
            roles_ensure()
            self.groups.add(Group.objects.get(name=extracted))
        if create:
            self.save()


def manager(**kwargs):
    return UserFactory(role=MANAGER, **kwargs)


def reviewer(**kwargs):
    return UserFactory(role=REVIEWER, **kwargs)


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "catalog.Product"

    sku = factory.Sequence(lambda n: f"SKU-{n:06d}")
    title = factory.Sequence(lambda n: f"Product {n}")
    brand = "Acme"
    category = "Shoes"


class ImageAssetFactory(factory.django.DjangoModelFactory):
    """A row only, with no stored files; use catalog.services.assets.asset_ingest for real files."""

    class Meta:
        model = "catalog.ImageAsset"

    product = factory.SubFactory(ProductFactory)
    position = "MAIN"
    sha256 = factory.Sequence(lambda n: f"{n:064x}")
    original_name = factory.LazyAttribute(lambda a: f"originals/{a.sha256}.jpg")
    working_name = factory.LazyAttribute(lambda a: f"working/{a.sha256}-v1.png")
    bytes = 1000
    width = 1200
    height = 1000
    working_width = 1200
    working_height = 1000
    format = "JPEG"
    colour_mode = "RGB"


class ImportJobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "catalog.ImportJob"

    source_kind = "zip"


def stored_image(product, name: str, position: str, *, seed: int, uploaded_at=None):
    """An image stored for real at ``position`` (files and row, through ``asset_ingest``),
    dated ``uploaded_at`` when given (an earlier season's shot for a re-shoot to replace)."""
    import io

    from catalog.models import ImageAsset
    from catalog.services.assets import asset_ingest
    from tests.catalog.imagegen import jpeg_bytes

    result = asset_ingest(product=product, fileobj=io.BytesIO(jpeg_bytes(seed=seed)),
                          filename=name, position=position)
    assert result.status == "stored", result.reason
    if uploaded_at is not None:
        ImageAsset.objects.filter(pk=result.asset.pk).update(uploaded_at=uploaded_at)
    return ImageAsset.objects.get(pk=result.asset.pk)
