import getpass
import sys

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from catalog.errors import UserRefused
from catalog.roles import ROLES
from catalog.services.users import email_check, user_create


class Command(BaseCommand):
    help = "Create a user with a role (catalog manager or reviewer)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=ROLES)
        parser.add_argument("--email", default="")
        parser.add_argument("--password", help="Prompted for when omitted (visible to other "
                            "users of the machine in the process list: prefer the prompt or "
                            "--password-stdin).")
        parser.add_argument("--password-stdin", action="store_true",
                            help="Read the password from the first line of standard input "
                                 "(for scripts).")
        parser.add_argument("--staff", action="store_true",
                            help="Let the user log in to the Django admin (/admin/); it shows "
                                 "nothing there unless a superuser grants model permissions. "
                                 "For the full admin use --superuser.")
        parser.add_argument("--superuser", action="store_true",
                            help="Full Django admin (every model, every permission); works "
                                 "whether or not other users exist, unlike ensure_admin.")

    def handle(self, *args, username, role, email, password, password_stdin, staff, superuser,
               **options):
        try:
            email_check(email=email)  # before the password prompt, not after it
        except UserRefused as exc:
            raise CommandError(str(exc))
        if password_stdin:
            if password:
                raise CommandError("Give either --password or --password-stdin, not both.")
            password = sys.stdin.readline().rstrip("\r\n")
        elif not password:
            if not sys.stdin.isatty():
                # getpass would fall back to reading a pipe, and end in EOFError on nothing
                raise CommandError("No terminal to ask for the password on: pipe it in with "
                                   "--password-stdin (or pass --password).")
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("Passwords do not match.")
        # The same validators as the password forms: a command line is no excuse for "a".
        candidate = get_user_model()(username=username, email=email)
        try:
            validate_password(password, user=candidate)
        except ValidationError as exc:
            raise CommandError("Password refused: " + " ".join(exc.messages))
        try:
            user_create(
                username=username, password=password, role=role, email=email, staff=staff,
                superuser=superuser,
            )
        except UserRefused as exc:
            raise CommandError(str(exc))
        self.stdout.write(self.style.SUCCESS(f"Created {username} ({role})."))
