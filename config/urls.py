from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import metrics, views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    # Token-gated, not login-gated (Prometheus): 404 without METRICS_TOKEN, 403 on a wrong
    # token; tests/deploy/test_observability.py checks that. Unnamed on purpose, so the
    # login sweep in tests/config/test_auth.py (named routes) does not expect a redirect.
    path("metrics", metrics.metrics_view),
    path("", views.dashboard, name="dashboard"),
    path("system/ping", views.worker_ping, name="worker_ping"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("catalog/", include("catalog.urls")),
    path("cutouts/", include("cutouts.urls")),
]
