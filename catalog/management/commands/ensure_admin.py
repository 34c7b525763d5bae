import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from catalog.roles import MANAGER
from catalog.services.users import user_create


class Command(BaseCommand):
    help = "Create the first admin account if no user exists yet, and print its credentials."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")

    def handle(self, *args, username, **options):
        if get_user_model().objects.exists():
            self.stdout.write("Users exist already; no admin account created.")
            return
        password = secrets.token_urlsafe(12)
        user_create(username=username, password=password, role=MANAGER, superuser=True)
        self.stdout.write(self.style.SUCCESS("First admin account created:"))
        self.stdout.write(f"    username: {username}\n    password: {password}")
        self.stdout.write("Change it at /accounts/password_change/ after logging in.")
