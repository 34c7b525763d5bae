"""Signals catalog sends for the apps above it, which it may not import (cutouts -> catalog)."""

from django.dispatch import Signal

#: Sent inside the transaction that soft-deletes images (``asset_soft_delete``, a product's
#: ``product_soft_delete``), with ``asset_ids``: the images just deleted. Cutouts cancels their
#: queued and running versions (``cutouts.services.batches.cutouts_cancel_deleted``), so a
#: batch does not cut images nobody can see any more (QA 2026-12-06 U11).
assets_deleted = Signal()
