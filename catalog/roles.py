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

#: What each capability lets a user do, in the words of a refusal ("Only … can <this>.").
CAPABILITY_ACTIONS: Final = {
    VIEW: "browse the catalog",
    UPLOAD: "create and edit products and upload or import images",
    DELETE: "delete and restore products and images",
    RUN_CUTOUTS: "start cutouts",
    REVIEW: "review cutouts",
    EXPORT: "export images",
}


def refusal(capability: str) -> str:
    """Why a page is refused, for a person: the roles that may do it, not the capability id
    ("Only catalog managers can export images.")."""
    perm(capability)
    allowed = [f"{role}s" for role in ROLES if capability in ROLE_CAPABILITIES[role]]
    return f"Only {' and '.join(allowed)} can {CAPABILITY_ACTIONS[capability]}."


def perm(capability: str) -> str:
    if capability not in CAPABILITIES:
        raise ValueError(f"Unknown capability {capability!r}")
    return f"catalog.{capability}"
