"""Ingest helpers: probing, validating and normalising images, reading ZIPs and manifests,
mapping filenames to SKUs.

Everything here works on files and plain values; only ``catalog.services`` touches the
database and storage, so these helpers are testable without Django.
"""
