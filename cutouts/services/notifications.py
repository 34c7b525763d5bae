"""Notifications for users (in the app, and by mail when configured) and the worker ping."""

from __future__ import annotations

import os
import socket

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from .. import enqueue
from ..models import Notification, WorkerPing


@transaction.atomic
def worker_ping_create(*, user=None) -> WorkerPing:
    ping = WorkerPing.objects.create(requested_by=user if user and user.is_authenticated else None)
    enqueue.worker_ping(ping.pk)
    return ping


def worker_ping_answer(*, ping_id: int) -> bool:
    """Record which process answered; compare-and-set so a redelivery does not overwrite."""
    return bool(
        WorkerPing.objects.filter(pk=ping_id, answered_at__isnull=True).update(
            answered_at=timezone.now(),
            worker_hostname=socket.gethostname(),
            worker_pid=os.getpid(),
            worker_ppid=os.getppid(),
        )
    )


def notification_create(*, user, text: str, url: str = "") -> Notification:
    note = Notification.objects.create(user=user, text=text[:500], url=url[:500])
    if settings.EMAIL_HOST and user.email:
        transaction.on_commit(lambda: send_mail(
            subject=f"Cutroom: {text[:80]}", message=f"{text}\n\n{url}",
            from_email=settings.DEFAULT_FROM_EMAIL, recipient_list=[user.email],
            fail_silently=True,
        ))
    return note


def notification_mark_read(*, user, notification_id: int | None = None) -> int:
    rows = Notification.objects.filter(user=user, read_at__isnull=True)
    if notification_id is not None:
        rows = rows.filter(pk=notification_id)
    return rows.update(read_at=timezone.now())
