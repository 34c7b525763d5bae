"""Roles and what each may do.

Capabilities are Django permissions on the unmanaged ``Capability`` model, so the admin,
``user.has_perm`` and groups all work as usual; a role is a group holding a set of them.
"""

from typing import Final

MANAGER: Final = "catalog manager"
REVIEWER: Final = "reviewer"
ROLES: Final = (MANAGER, REVIEWER)

VIEW: Final = "view_catalog"
UPLOAD: Final = "upload_images"
DELETE: Final = "delete_images"
RUN_CUTOUTS: Final = "run_cutouts"
REVIEW: Final = "review_cutouts"
EXPORT: Final = "export_images"

CAPABILITIES: Final = {
    VIEW: "Can browse products, assets and cutouts",
    UPLOAD: "Can upload and import images and products",
    DELETE: "Can delete products and images",
    RUN_CUTOUTS: "Can start cutout batches",
    REVIEW: "Can review, approve, flag, re-run and retouch cutouts",
    EXPORT: "Can export marketplace images",
}

ROLE_CAPABILITIES: Final = {
    MANAGER: frozenset(CAPABILITIES),
    REVIEWER: frozenset({VIEW, REVIEW}),
}


def perm(capability: str) -> str:
    if capability not in CAPABILITIES:
        raise ValueError(f"Unknown capability {capability!r}")
    return f"catalog.{capability}"
