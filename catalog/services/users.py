"""Users and role groups: the roles with exactly their capabilities, and creating users."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from ..errors import UserRefused
from ..models import Capability
from ..roles import CAPABILITIES, ROLE_CAPABILITIES, ROLES


@transaction.atomic
def roles_ensure() -> None:
    """Create the role groups with exactly their capabilities (idempotent)."""
    content_type = ContentType.objects.get_for_model(Capability, for_concrete_model=False)
    permissions = {}
    for codename, name in CAPABILITIES.items():
        permissions[codename], _ = Permission.objects.get_or_create(
            content_type=content_type, codename=codename, defaults={"name": name}
        )
    for role, capabilities in ROLE_CAPABILITIES.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set([permissions[c] for c in capabilities])


def email_check(*, email: str) -> None:
    """Raise UserRefused unless ``email`` is empty or an address Django's forms accept."""
    if email:
        try:
            validate_email(email)
        except ValidationError:
            # Password resets go to this address: a typo here locks the user out later.
            raise UserRefused(f"{email!r} is not a valid e-mail address.") from None


@transaction.atomic
def user_create(
    *, username: str, password: str, role: str, email: str = "", staff: bool = False,
    superuser: bool = False,
):
    """Raises UserRefused (unknown role, invalid e-mail, username taken) with a message for
    the user. ``staff`` only opens the Django admin's login: what it shows there is the
    user's model permissions, which roles do not grant; ``superuser`` sees and edits all."""
    if role not in ROLES:
        raise UserRefused(f"Unknown role {role!r}; choose one of: {', '.join(ROLES)}")
    email_check(email=email)
    roles_ensure()
    User = get_user_model()
    if User.objects.filter(username=username).exists():
        raise UserRefused(f"User {username!r} already exists")
    if superuser:
        user = User.objects.create_superuser(username=username, email=email, password=password)
    else:
        user = User.objects.create_user(
            username=username, email=email, password=password, is_staff=staff
        )
    user.groups.add(Group.objects.get(name=role))
    return user
