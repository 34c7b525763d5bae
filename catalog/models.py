from django.db import models

from .roles import CAPABILITIES


class Capability(models.Model):
    """Holds the app-wide permissions that roles grant; it has no table."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = list(CAPABILITIES.items())
