"""Production refuses placeholder and guessable secrets, naming the variable.

The shipped examples (deploy/.env.example, deploy/systemd/cutroom.env.example, docs/) use
``change-me`` values that are long enough to pass a length check; copying one unchanged must
stop the process at start-up, not run a site whose sessions anyone can forge.
"""

from __future__ import annotations

import math
from collections import Counter

from .env import ImproperlyConfiguredEnv

# Exact values from the shipped examples, and fragments no generated secret contains.
KNOWN_PLACEHOLDERS = frozenset({
    "change-me-to-at-least-50-random-characters-change-me-change-me-change-me",
    "change-me-metrics-token",
    "change-me-s3-app-secret",
    "change-me",
    "dev-insecure-cutroom-key-change-me",
    "minioadmin",
    "secret",
    "password",
})
PLACEHOLDER_FRAGMENTS = ("change-me", "changeme", "change_me", "replace-me", "replaceme",
                         "dev-insecure", "your-secret", "example", "placeholder", "…", "...")


def entropy_bits(value: str) -> float:
    """Shannon entropy of the characters times the length: 60 × 'a' is 0 bits, a
    ``secrets.token_urlsafe(64)`` about 480."""
    if not value:
        return 0.0
    counts = Counter(value)
    per_char = max(0.0, -sum(n / len(value) * math.log2(n / len(value))
                            for n in counts.values()))
    return per_char * len(value)


def secret_problem(value: str, *, min_length: int, min_bits: float) -> str:
    """Why ``value`` is not an acceptable secret, or '' when it is."""
    lowered = value.strip().lower()
    if lowered in KNOWN_PLACEHOLDERS or any(f in lowered for f in PLACEHOLDER_FRAGMENTS):
        return "is a placeholder from the examples"
    if len(value) < min_length:
        return f"is shorter than {min_length} characters"
    bits = entropy_bits(value)
    if bits < min_bits:
        return f"is not random enough ({bits:.0f} bits of entropy, need {min_bits:.0f})"
    return ""


def require_secret(name: str, value: str, *, min_length: int, min_bits: float) -> None:
    problem = secret_problem(value, min_length=min_length, min_bits=min_bits)
    if problem:
        raise ImproperlyConfiguredEnv(
            f"{name} {problem}: generate one with "
            "`python -c 'import secrets; print(secrets.token_urlsafe(64))'`."
        )


# (minimum length, minimum entropy bits) per variable.
RULES = {
    # Django's get_random_secret_key() scores ~215-260, token_urlsafe(64) ~450.
    "SECRET_KEY": (50, 180.0),
    # token_urlsafe(16) scores ~75-95.
    "METRICS_TOKEN": (20, 64.0),
    "S3_SECRET_ACCESS_KEY": (16, 50.0),
}


def check_url_password(name: str, url: str) -> None:
    """A connection URL whose password is a placeholder (``postgres://cutroom:change-me@...``
    in the systemd example) stops the start-up too; its strength is the server's business."""
    from urllib.parse import urlsplit

    try:
        password = urlsplit(url).password or ""
    except ValueError:
        return
    lowered = password.lower()
    if lowered in KNOWN_PLACEHOLDERS or any(f in lowered for f in PLACEHOLDER_FRAGMENTS):
        raise ImproperlyConfiguredEnv(f"{name} has a placeholder password from the examples.")


def check_production_secrets(values: dict[str, str]) -> None:
    """Raise for the first unacceptable secret among ``values`` (empty optional ones pass:
    no METRICS_TOKEN means no /metrics endpoint, no S3 keys means an instance role)."""
    for name, value in values.items():
        if name == "S3_ACCESS_KEY_ID":
            if value and value.strip().lower() in KNOWN_PLACEHOLDERS | {"change-me"}:
                raise ImproperlyConfiguredEnv(f"{name} is a placeholder from the examples.")
            continue
        if not value and name != "SECRET_KEY":
            continue
        min_length, min_bits = RULES[name]
        require_secret(name, value, min_length=min_length, min_bits=min_bits)
