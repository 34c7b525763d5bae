"""Typed environment helpers that fail loudly.

A typo in a deployment's environment must stop the process at start-up with the
variable's name in the message, not surface later as a confusing runtime error.
"""

import os


class ImproperlyConfiguredEnv(RuntimeError):
    pass


_MISSING = object()
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _raw(name: str, default: object) -> str | object:
    value = os.environ.get(name)
    if value is None:
        if default is _MISSING:
            raise ImproperlyConfiguredEnv(f"Environment variable {name} is required but not set.")
        return default
    return value


def env_str(name: str, default: str | object = _MISSING) -> str:
    return _raw(name, default)  # type: ignore[return-value]


def env_bool(name: str, default: bool | object = _MISSING) -> bool:
    value = _raw(name, default)
    if isinstance(value, bool):
        return value
    lowered = str(value).strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfiguredEnv(f"{name}={value!r} is not a boolean (use true/false, 1/0).")


def env_int(name: str, default: int | object = _MISSING, *, minimum: int | None = None) -> int:
    value = _raw(name, default)
    try:
        # the environment's text or the caller's default; anything else is a TypeError below
        number = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise ImproperlyConfiguredEnv(f"{name}={value!r} is not an integer.")
    if minimum is not None and number < minimum:
        raise ImproperlyConfiguredEnv(f"{name}={number} must be at least {minimum}.")
    return number


def env_float(name: str, default: float | object = _MISSING, *,
              minimum: float | None = None) -> float:
    value = _raw(name, default)
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ImproperlyConfiguredEnv(f"{name}={value!r} is not a number.")
    if minimum is not None and not number >= minimum:  # NaN fails too
        raise ImproperlyConfiguredEnv(f"{name}={number:g} must be at least {minimum:g}.")
    return number


def env_list(name: str, default: list[str] | object = _MISSING) -> list[str]:
    value = _raw(name, default)
    if isinstance(value, list):
        return value
    return [item.strip() for item in str(value).split(",") if item.strip()]


def env_choice(name: str, choices: tuple[str, ...], default: str | object = _MISSING) -> str:
    value = str(_raw(name, default))
    if value not in choices:
        raise ImproperlyConfiguredEnv(f"{name}={value!r} must be one of {', '.join(choices)}.")
    return value
