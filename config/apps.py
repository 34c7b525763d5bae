"""The project's own app config: creates the runtime folders under CUTROOM_VAR_DIR when a
process starts Django (web, worker, command, test run), never when settings are imported."""

from __future__ import annotations

import os

from django.apps import AppConfig
from django.conf import settings


def runtime_folders() -> list[str]:
    """Folders the process writes before anything else would create them: the var folder
    (SQLite needs the parent of its file), static files and upload temp files. Media and
    export storages create their folders on first save; the embedded broker creates its own
    (config.broker.Channel)."""
    return [str(settings.VAR_DIR), str(settings.STATIC_ROOT), settings.FILE_UPLOAD_TEMP_DIR]


class CutroomConfig(AppConfig):
    name = "config"
    label = "cutroom"
    verbose_name = "Cutroom"

    def ready(self) -> None:
        for folder in runtime_folders():
            os.makedirs(folder, exist_ok=True)
