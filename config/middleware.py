"""Request id: taken from the proxy's X-Request-ID (nginx sets ``$request_id``) when it is a
sane token, otherwise generated; stored for the logs (config.logging), passed to every Celery
task published during the request, and returned in the response's X-Request-ID header."""

from __future__ import annotations

from .logging import clean_request_id, request_id_var


class RequestIdMiddleware:
    header = "X-Request-ID"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        rid = clean_request_id(request.headers.get(self.header))
        request.request_id = rid
        token = request_id_var.set(rid)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response[self.header] = rid
        return response
