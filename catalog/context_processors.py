from .roles import CAPABILITIES
from .selectors import user_role_names


def roles(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"can": {}, "user_roles": []}
    return {
        "can": {cap: user.has_perm(f"catalog.{cap}") for cap in CAPABILITIES},
        "user_roles": user_role_names(user=user),
    }
