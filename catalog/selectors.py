from .roles import MANAGER, REVIEWER


def user_role_names(*, user) -> list[str]:
    if not user.is_authenticated:
        return []
    if user.is_superuser:
        return [MANAGER]
    return sorted(
        name for name in user.groups.values_list("name", flat=True) if name in (MANAGER, REVIEWER)
    )
