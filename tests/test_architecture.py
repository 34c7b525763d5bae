"""Import contracts of pyproject.toml hold on the real tree and fail on a deliberate violation."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("config", "catalog", "cutouts")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint_imports(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert LINT_IMPORTS.exists(), f"{LINT_IMPORTS} missing: install the [test] extra"
    # PYTHONPATH first, so the packages found are the ones under cwd (a copy, in the tests
    # below), not the editable install of the real tree.
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", str(cwd / "pyproject.toml"), *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=120,
    )


def test_it_keeps_every_import_contract_on_the_real_tree():
    result = _lint_imports(ROOT)

    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"Contracts: [1-9]\d* kept, 0 broken\.", result.stdout), result.stdout


@pytest.fixture(scope="module")
def tree_copy(tmp_path_factory) -> Path:
    """The three packages and pyproject.toml, copied so a test can break them."""
    root = tmp_path_factory.mktemp("tree")
    for package in PACKAGES:
        shutil.copytree(ROOT / package, root / package,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copy2(ROOT / "pyproject.toml", root / "pyproject.toml")
    return root


# (contract id, module written into the copy, its source, what the report must name)
VIOLATIONS = [
    ("pure-no-frameworks", "cutouts/imaging/_violation.py",
     "from django.conf import settings  # noqa\n", "cutouts.imaging._violation -> django"),
    ("imaging-standalone", "cutouts/imaging/_violation.py",
     "from cutouts import models  # noqa\n", "cutouts.imaging._violation -> cutouts.models"),
    # The one PNG writer (catalog.ingest.png) is the only module of catalog it may import.
    ("imaging-standalone", "cutouts/imaging/_violation.py",
     "from catalog.ingest import images  # noqa\n",
     "cutouts.imaging._violation -> catalog.ingest.images"),
    ("variants-standalone", "cutouts/variants/_violation.py",
     "from catalog import models  # noqa\n", "cutouts.variants._violation -> catalog.models"),
    ("ingest-standalone", "catalog/ingest/_violation.py",
     "from catalog import models  # noqa\n", "catalog.ingest._violation -> catalog.models"),
    ("layers", "catalog/_violation.py",
     "from cutouts import models  # noqa\n", "catalog._violation -> cutouts.models"),
    ("services-no-celery", "cutouts/services/_violation.py",
     "from celery.exceptions import SoftTimeLimitExceeded  # noqa\n",
     "cutouts.services._violation -> celery"),
    ("tasks-via-enqueue", "cutouts/views/_violation.py",
     "from cutouts import tasks  # noqa\n", "cutouts.views._violation -> cutouts.tasks"),
    ("acyclic", "cutouts/imaging/_violation_a.py",
     "from . import _violation_b  # noqa\n", "No cycles are allowed in cutouts.imaging."),
]


@pytest.mark.parametrize(("contract", "path", "source", "named"), VIOLATIONS,
                         ids=[f"{v[0]}-{v[3].split()[-1].rstrip('.')}" for v in VIOLATIONS])
def test_it_fails_a_contract_on_a_deliberate_bad_import(tree_copy, contract, path, source,
                                                        named):
    written = [tree_copy / path]
    written[0].write_text(source)
    if contract == "acyclic":
        written.append(written[0].with_name("_violation_b.py"))
        written[1].write_text("from . import _violation_a  # noqa\n")
    try:
        result = _lint_imports(tree_copy, "--contract", contract)
    finally:
        for module in written:
            module.unlink()

    assert result.returncode == 1, result.stdout + result.stderr
    assert "BROKEN" in result.stdout, result.stdout
    assert named in result.stdout, result.stdout
    assert "_violation" in result.stdout, result.stdout


def test_it_imports_the_pure_packages_without_django_or_celery():
    # The contracts read import statements; this also catches a framework pulled in at run
    # time (importlib, a package __init__), by importing every pure module in a clean process.
    probe = """
import importlib, pkgutil, sys
names = []
for package in ("cutouts.imaging", "cutouts.variants", "catalog.ingest"):
    module = importlib.import_module(package)
    for info in pkgutil.iter_modules(module.__path__, package + "."):
        if not info.name.endswith("__main__"):
            importlib.import_module(info.name)
            names.append(info.name)
leaked = sorted({m.split(".")[0] for m in sys.modules} & {"django", "celery", "kombu", "config"})
print(len(names))
print(",".join(leaked))
"""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)

    assert result.returncode == 0, result.stderr
    count, leaked = result.stdout.split("\n")[-3:-1]
    assert int(count) >= 30, result.stdout
    assert leaked == "", f"pure packages imported {leaked}"
