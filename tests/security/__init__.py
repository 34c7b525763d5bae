"""Security proof for issue 14, readable top to bottom:

- test_access.py: every route x every role x anonymous, generated from the URLconf; CSRF on
  every POST; CSP and Permissions-Policy on every page; no inline script in any template;
- test_proxy_and_limits.py: client IP behind trusted proxies, django-axes lockout with
  forged X-Forwarded-For, per-IP rate limits on login and password reset;
- test_secrets.py: production refuses the shipped placeholder and low-entropy secrets;
- test_hostile_input.py: ReDoS bound on naming rules, ZIP bombs, open redirects;
- test_hardening.py: /healthz cost, create_user validators, idempotent approve, soft-deleted
  assets out of bulk actions, upload temp files, the CI dependency audit.
"""
