"""Permission helpers that open every view.

``LoginRequiredMiddleware`` already sends anonymous users to the login page; these
helpers add the role check and return 403 to a logged-in user without the capability.
"""

from collections.abc import Callable
from functools import wraps

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from .roles import CAPABILITIES, MANAGER, REVIEWER, perm, refusal

NO_ROLE = (f"Your account has no role yet: ask an administrator to give you the {MANAGER} or "
           f"{REVIEWER} role.")


def require(request: HttpRequest, capability: str) -> None:
    if not request.user.is_authenticated or not request.user.has_perm(perm(capability)):
        # has_perm caches the user's permissions: the extra checks cost no query.
        if request.user.is_authenticated and not any(
                request.user.has_perm(perm(c)) for c in CAPABILITIES):
            raise PermissionDenied(NO_ROLE)
        raise PermissionDenied(refusal(capability))


def capability_required(capability: str) -> Callable:
    perm(capability)  # fail at import time on a typo

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs):
            require(request, capability)
            return view(request, *args, **kwargs)

        wrapper.required_capability = capability  # type: ignore[attr-defined]
        return wrapper

    return decorator
