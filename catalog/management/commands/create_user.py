import getpass

from django.core.management.base import BaseCommand, CommandError

from catalog.roles import ROLES
from catalog.services import user_create


class Command(BaseCommand):
    help = "Create a user with a role (catalog manager or reviewer)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=ROLES)
        parser.add_argument("--email", default="")
        parser.add_argument("--password", help="Prompted for when omitted.")
        parser.add_argument("--staff", action="store_true", help="Allow Django admin access.")
        parser.add_argument("--superuser", action="store_true")

    def handle(self, *args, username, role, email, password, staff, superuser, **options):
        if not password:
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("Passwords do not match.")
        try:
            user_create(
                username=username, password=password, role=role, email=email, staff=staff,
                superuser=superuser,
            )
        except ValueError as exc:
            raise CommandError(str(exc))
        self.stdout.write(self.style.SUCCESS(f"Created {username} ({role})."))
