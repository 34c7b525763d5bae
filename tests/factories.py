import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from catalog.roles import MANAGER, REVIEWER
from catalog.services import roles_ensure

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
