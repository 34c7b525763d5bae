from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import metrics, views
from .security import rate_limited_post

# The admin's own login form shares the login rate limit (axes already covers its lockout).
# (Replaced on this one AdminSite instance on purpose: mypy's method-assign flags any such.)
admin.site.login = rate_limited_post("login")(admin.site.login)  # type: ignore[method-assign]
# ... and its logout is ours (POST only, "You are logged out." on our login page), so there is
# one way out of the app; the admin still wraps it in admin_view (CSRF, never cached).
# (The stubs type the admin's logout as a TemplateResponse; any response will do.)
admin.site.logout = views.admin_logout  # type: ignore[method-assign, assignment]


urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    # Public, and unnamed for the same reason as metrics below (the login sweep's named routes).
    path("favicon.ico", views.favicon),
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
    path("accounts/logout/", views.logout, name="logout"),
    # Django's other account pages, listed rather than included: django.contrib.auth.urls would
    # register a second login, password reset and logout (Django's own) behind the ones above.
    path("accounts/password_change/", auth_views.PasswordChangeView.as_view(),
         name="password_change"),
    path("accounts/password_change/done/", auth_views.PasswordChangeDoneView.as_view(),
         name="password_change_done"),
    path("accounts/password_reset/done/", auth_views.PasswordResetDoneView.as_view(),
         name="password_reset_done"),
    path("accounts/reset/<uidb64>/<token>/", auth_views.PasswordResetConfirmView.as_view(),
         name="password_reset_confirm"),
    path("accounts/reset/done/", auth_views.PasswordResetCompleteView.as_view(),
         name="password_reset_complete"),
    path("admin/", admin.site.urls),
    path("catalog/", include("catalog.urls")),
    path("cutouts/", include("cutouts.urls")),
    # REST API v1 (its own auth: API key or session, 401 problem+json), keys and webhooks pages.
    path("api/", include("config.api")),
]
