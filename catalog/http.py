"""The request type views see once the middleware in settings has run (typing only)."""

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    """``request.htmx``, set on every request by ``django_htmx.middleware.HtmxMiddleware``
    (settings.MIDDLEWARE): a view that reads it is annotated with this class, as
    django-htmx documents, so the type check sees the attribute."""

    htmx: HtmxDetails
