"""Pages to manage API keys (each user their own; catalog managers every user's) and webhook
subscriptions (managers)."""

from __future__ import annotations

from datetime import timedelta
from typing import cast

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from . import roles, selectors, webhooks
from .api_models import (
    ApiScope,
    DeliveryStatus,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)
from .ids import id_from
from .permissions import capability_required
from .services import api_keys as apikeys


def _require_manager(request: HttpRequest) -> None:
    if not roles.ROLE_CAPABILITIES[roles.MANAGER] <= apikeys.user_capabilities(
            user=request.user):
        raise PermissionDenied("Only a catalog manager may manage webhooks.")


def _form_errors(form: forms.Form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            for error in errors:
                form.add_error(field if field in form.fields else None, error)
    else:
        for error in exc.messages:
            form.add_error(None, error)


# --- API keys -----------------------------------------------------------------------------------


class KeyForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="Which system uses it, e.g. 'Akeneo sync'.")
    scope = forms.ChoiceField(choices=ApiScope.choices)
    expires_in_days = forms.IntegerField(min_value=1, max_value=3650, required=False,
                                         initial=365,
                                         help_text="A year unless changed; clear the field "
                                                   "for a key that never expires.")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = apikeys.scopes_for_user(user=user)
        cast(forms.ChoiceField, self.fields["scope"]).choices = [
            (v, label) for v, label in ApiScope.choices if v in allowed]


#: where a created key waits for the redirected GET that shows it once
NEW_KEY_SESSION_SLOT = "api_keys_new"
#: where a rotated webhook signing secret waits for the same
NEW_SECRET_SESSION_SLOT = "api_webhook_new_secret"  # noqa: S105 - a session slot name


def _once_keep(request: HttpRequest, slot: str, value: str, *, page: str) -> None:
    """Post/Redirect/Get for a secret shown once: it waits in the session (server-side,
    never in a cookie or URL) for the redirected GET of ``page``."""
    request.session[slot] = {"page": page, "value": value}


def _once_take(request: HttpRequest, slot: str, *, page: str) -> str:
    """The secret waiting for a GET of ``page``, forgotten as it is read (a reload does not
    show it again); '' otherwise. Another page leaves it waiting."""
    kept = request.session.get(slot) if request.method == "GET" else None
    if not isinstance(kept, dict) or kept.get("page") != page:
        return ""
    del request.session[slot]
    return str(kept.get("value") or "")


def _no_store(response: HttpResponse) -> HttpResponse:
    # A page carrying a secret in clear must not be kept by the browser or a proxy.
    response["Cache-Control"] = "no-store"
    return response


@capability_required(roles.VIEW)
@require_http_methods(["GET", "POST"])
def key_list(request: HttpRequest) -> HttpResponse:
    """Post/Redirect/Get: a created key waits in the session (server-side, never in a
    cookie or URL) for the redirected GET, which shows it once and forgets it, so reloading
    the page never creates a second key."""
    form = KeyForm(request.POST or None, user=request.user)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            days = form.cleaned_data["expires_in_days"]
            try:
                created = apikeys.api_key_create(
                    user=request.user, name=form.cleaned_data["name"],
                    scope=form.cleaned_data["scope"],
                    expires_at=timezone.now() + timedelta(days=days) if days else None)
                _once_keep(request, NEW_KEY_SESSION_SLOT, created.token, page="api_keys")
                return redirect("api_keys")
            except ValidationError as exc:
                _form_errors(form, exc)
                status = 400
        else:
            status = 400
    new_token = _once_take(request, NEW_KEY_SESSION_SLOT, page="api_keys")
    manages = apikeys.user_manages_keys(user=request.user)
    response = render(request, "catalog/api_keys.html", {
        "form": form, "keys": selectors.api_key_list(user=request.user), "new_token": new_token,
        "other_keys": selectors.api_key_list_others(user=request.user) if manages else None,
        "now": timezone.now(),
    }, status=status)
    return _no_store(response) if new_token else response


@capability_required(roles.VIEW)
@require_POST
def key_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """Your own key; a catalog manager any key (someone leaves). Another user's key is a 404
    to everyone else, as if it did not exist."""
    key = selectors.api_key_get(pk=pk, user=request.user,
                                any_owner=apikeys.user_manages_keys(user=request.user))
    if key is None:
        raise Http404("No such key.")
    apikeys.api_key_revoke(key=key, by=request.user)
    whose = "" if key.user_id == request.user.pk else f" of {key.user.get_username()}"
    messages.success(request, f"Key {key.name}{whose} revoked.")
    return redirect("api_keys")


# --- webhooks -----------------------------------------------------------------------------------


class WebhookForm(forms.Form):
    url = forms.URLField(max_length=500, assume_scheme="https",
                         help_text="https, public address; redirects are not followed.")
    events = forms.MultipleChoiceField(choices=WebhookEvent.choices,
                                       widget=forms.CheckboxSelectMultiple)
    description = forms.CharField(max_length=200, required=False)


@capability_required(roles.VIEW)
@require_http_methods(["GET", "POST"])
def webhook_list(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    form = WebhookForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                sub = webhooks.subscription_create(user=request.user, **form.cleaned_data)
                # The secret is on the subscription's page, never in a message cookie.
                messages.success(request, f"Subscribed {sub.url}; copy its signing secret below.")
                return redirect("api_webhook_detail", pk=sub.pk)
            except ValidationError as exc:
                _form_errors(form, exc)
        status = 400
    return render(request, "catalog/api_webhooks.html", {
        "form": form, "subscriptions": webhooks.subscriptions_live()}, status=status)


def _subscription(pk: int) -> WebhookSubscription:
    try:
        return webhooks.subscription_get(pk=pk)
    except WebhookSubscription.DoesNotExist:
        raise Http404("No such webhook subscription.")


WEBHOOK_ACTIONS = ("enable", "disable", "delete", "redeliver_failed", "rotate_secret")
DELIVERY_PAGE_SIZE = 50


@capability_required(roles.VIEW)
@require_http_methods(["GET", "POST"])
def webhook_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The delivery log (GET status=, before= / after= for older / newer pages); POST
    action=enable|disable|delete|redeliver_failed|rotate_secret. A rotated secret is shown
    once, on the redirected GET (Post/Redirect/Get, as for API keys)."""
    _require_manager(request)
    sub = _subscription(pk)
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        if action in ("enable", "disable"):
            webhooks.subscription_update(subscription=sub, is_active=action == "enable")
            messages.success(request, f"Webhook {action}d.")
        elif action == "delete":
            webhooks.subscription_delete(subscription=sub)
            messages.success(request, f"Webhook to {sub.url} deleted.")
            return redirect("api_webhooks")
        elif action == "rotate_secret":
            sub = webhooks.subscription_secret_rotate(subscription=sub)
            _once_keep(request, NEW_SECRET_SESSION_SLOT, sub.secret, page=f"webhook:{sub.pk}")
            messages.success(request, "Signing secret rotated; copy the new one below.")
        elif action == "redeliver_failed":
            try:
                count = webhooks.deliveries_redeliver_failed(subscription=sub)
                messages.success(request, f"{count} failed deliveries queued again.")
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
        else:
            # A stale or hand-made form: say so instead of redirecting as if it worked.
            messages.error(request, f"Unknown action {str(action or '')[:40]!r}; use one of "
                                    f"{', '.join(WEBHOOK_ACTIONS)}.")
            status = 400
        if status == 200:
            # back to the log as it was filtered (the form posts to the page's own address)
            return redirect(request.get_full_path())
    state = request.GET.get("status", "")
    state = state if state in DeliveryStatus.values else ""
    page = webhooks.deliveries_page(
        subscription=sub, status=state, before=id_from(request.GET.get("before")),
        after=id_from(request.GET.get("after")), size=DELIVERY_PAGE_SIZE)
    new_secret = _once_take(request, NEW_SECRET_SESSION_SLOT, page=f"webhook:{sub.pk}")
    response = render(request, "catalog/api_webhook_detail.html", {
        "sub": sub, "deliveries": page.items, "page": page, "status": state,
        "statuses": DeliveryStatus.choices, "new_secret": new_secret,
        "previous_secret_signs": bool(sub.previous_secret and sub.previous_secret_expires_at
                                      and sub.previous_secret_expires_at > timezone.now()),
        "paged": bool(request.GET.get("before") or request.GET.get("after"))}, status=status)
    # The page shows the signing secret (in its <details>) on every visit, not only now.
    return _no_store(response)


@capability_required(roles.VIEW)
@require_http_methods(["GET", "POST"])
def webhook_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change URL, events and description (the checks of creation, SSRF guard included);
    the secret and the delivery log stay."""
    _require_manager(request)
    sub = _subscription(pk)
    form = WebhookForm(request.POST or None, initial={
        "url": sub.url, "events": sub.events, "description": sub.description})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                webhooks.subscription_update(subscription=sub, **form.cleaned_data)
                messages.success(request, "Webhook saved.")
                return redirect("api_webhook_detail", pk=sub.pk)
            except ValidationError as exc:
                _form_errors(form, exc)
        status = 400
    return render(request, "catalog/api_webhook_edit.html", {"form": form, "sub": sub},
                  status=status)


@capability_required(roles.VIEW)
@require_POST
def webhook_redeliver(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manager(request)
    try:
        delivery = webhooks.delivery_get(pk=pk)
    except WebhookDelivery.DoesNotExist:
        raise Http404("No such delivery.")
    try:
        webhooks.delivery_redeliver(delivery=delivery)
        messages.success(request, f"Delivery {delivery.msg_id} queued again.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("api_webhook_detail", pk=delivery.subscription_id)

