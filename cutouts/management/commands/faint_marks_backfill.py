"""``manage.py faint_marks_backfill``: the name ``signals_backfill`` had when it measured the
faint marks alone (2026-12-04); upgrade notes and scripts written then still run it, and it
does the whole job."""

from .signals_backfill import Command as SignalsBackfill


class Command(SignalsBackfill):
    help = "Another name for signals_backfill (its name until 2026-12-05). " + \
        SignalsBackfill.help
