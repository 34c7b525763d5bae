"""In-memory test images, hand-built ICC profiles and a CIEDE2000 implementation."""

from __future__ import annotations

import io
import struct
import zipfile

import numpy as np
from PIL import Image

# --- Images ----------------------------------------------------------------------------------


def gradient_array(width: int = 1200, height: int = 900, seed: int = 0) -> np.ndarray:
    """A smooth, saturated test card: hue sweeps across, lightness down, so every channel and
    both saturated and neutral colours are exercised."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    phase = rng.uniform(0, 2 * np.pi)
    r = 127.5 + 127.5 * np.sin(x / width * 2 * np.pi + phase)
    g = 127.5 + 127.5 * np.sin(x / width * 2 * np.pi + phase + 2.1)
    b = 127.5 + 127.5 * np.sin(x / width * 2 * np.pi + phase + 4.2)
    fade = (y / height)[..., None]
    rgb = np.stack([r, g, b], axis=-1) * (1 - fade) + 128 * fade
    return np.clip(rgb, 0, 255).astype(np.uint8)


def image_bytes(
    fmt: str = "JPEG", size: tuple[int, int] = (1200, 900), mode: str = "RGB", seed: int = 0,
    **save_kwargs,
) -> bytes:
    img = Image.fromarray(gradient_array(*size, seed=seed), "RGB")
    if mode != "RGB":
        img = img.convert(mode)
    out = io.BytesIO()
    if fmt == "JPEG":
        save_kwargs.setdefault("quality", 92)
    img.save(out, fmt, **save_kwargs)
    return out.getvalue()


def jpeg_bytes(size=(1200, 900), seed=0, **kwargs) -> bytes:
    return image_bytes("JPEG", size=size, seed=seed, **kwargs)


def jpeg_with_orientation(size=(1200, 800), orientation=6) -> bytes:
    img = Image.fromarray(gradient_array(*size), "RGB")
    exif = Image.Exif()
    exif[0x0112] = orientation
    out = io.BytesIO()
    img.save(out, "JPEG", quality=90, exif=exif.tobytes())
    return out.getvalue()


def zip_bytes(members: dict[str, bytes], *, compression=zipfile.ZIP_STORED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=compression) as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name), data, compress_type=compression)
    return out.getvalue()


# --- ICC profiles ----------------------------------------------------------------------------

D50 = (0.9642, 1.0, 0.8249)


def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def _xyz_tag(xyz) -> bytes:
    return b"XYZ " + b"\0" * 4 + b"".join(_s15(v) for v in xyz)


def _desc_tag(text: str) -> bytes:
    ascii_ = text.encode("ascii") + b"\0"
    return (b"desc" + b"\0" * 4 + struct.pack(">I", len(ascii_)) + ascii_
            + struct.pack(">II", 0, 0) + struct.pack(">HB", 0, 0) + b"\0" * 67)


def _text_tag(text: str) -> bytes:
    return b"text" + b"\0" * 4 + text.encode("ascii") + b"\0"


def _gamma_tag(gamma: float) -> bytes:
    return b"curv" + b"\0" * 4 + struct.pack(">IH", 1, round(gamma * 256)) + b"\0\0"


def _assemble(device_class: bytes, space: bytes, pcs: bytes, tags: list[tuple[bytes, bytes]]
              ) -> bytes:
    table_size = 4 + 12 * len(tags)
    offset = 128 + table_size
    entries, blobs = [], b""
    for signature, data in tags:
        pad = (-len(data)) % 4
        entries.append(struct.pack(">4sII", signature, offset + len(blobs), len(data)))
        blobs += data + b"\0" * pad
    size = 128 + table_size + len(blobs)
    header = (
        struct.pack(">I", size) + b"lcms" + struct.pack(">I", 0x02100000) + device_class + space
        + pcs + struct.pack(">6H", 2026, 1, 1, 0, 0, 0) + b"acsp" + b"\0" * 24
        + struct.pack(">I", 0) + b"".join(_s15(v) for v in D50) + b"test" + b"\0" * 44
    )
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + b"".join(entries) + blobs


def adobe_rgb_1998_icc() -> bytes:
    """Adobe RGB (1998) as a v2 matrix/TRC profile, from the published primaries (D50-adapted
    colorants as in Adobe's own profile) and gamma 563/256."""
    gamma = 563 / 256
    return _assemble(b"mntr", b"RGB ", b"XYZ ", [
        (b"desc", _desc_tag("Adobe RGB (1998) test build")),
        (b"cprt", _text_tag("Public domain test profile")),
        (b"wtpt", _xyz_tag(D50)),
        (b"rXYZ", _xyz_tag((0.60974, 0.31111, 0.01947))),
        (b"gXYZ", _xyz_tag((0.20528, 0.62567, 0.06087))),
        (b"bXYZ", _xyz_tag((0.14919, 0.06322, 0.74457))),
        (b"rTRC", _gamma_tag(gamma)),
        (b"gTRC", _gamma_tag(gamma)),
        (b"bTRC", _gamma_tag(gamma)),
    ])


_SRGB_D50 = np.array([[0.4360747, 0.3850649, 0.1430804],
                      [0.2225045, 0.7168786, 0.0606169],
                      [0.0139322, 0.0971045, 0.7141733]])


def _cmyk_press_model(cmyk: np.ndarray) -> np.ndarray:
    """A made-up but press-like CMYK → Lab(D50): impure inks (cyan also absorbs green,
    magenta some blue), dot gain, paper that is not pure white, and a black that is not
    L*=0. It differs clearly from the naive formula, so a test can tell them apart."""
    c, m, y, k = (cmyk[..., i] for i in range(4))
    gain = lambda v: v + 0.15 * v * (1 - v) * 4 / 4  # noqa: E731 - tiny local curve
    c, m, y, k = gain(c), gain(m), gain(y), gain(k)
    r = (1 - c) * (1 - 0.05 * m)
    g = (1 - m) * (1 - 0.25 * c) * (1 - 0.05 * y)
    b = (1 - y) * (1 - 0.2 * m) * (1 - 0.1 * c)
    rgb = np.stack([r, g, b], axis=-1) * (1 - 0.88 * k)[..., None]
    rgb = 0.06 + 0.9 * np.clip(rgb, 0, 1)  # paper and ink limits
    linear = rgb ** 2.2
    xyz = linear @ _SRGB_D50.T
    return xyz_to_lab(xyz, white=np.array(D50))


def cmyk_press_icc(grid: int = 9) -> bytes:
    """A CMYK printer profile (lut16 A2B0/A2B1, Lab PCS) built from ``_cmyk_press_model``."""
    axis = np.linspace(0, 1, grid)
    cc, mm, yy, kk = np.meshgrid(axis, axis, axis, axis, indexing="ij")
    lab = _cmyk_press_model(np.stack([cc, mm, yy, kk], axis=-1)).reshape(-1, 3)
    encoded = np.empty_like(lab)
    encoded[:, 0] = np.clip(lab[:, 0], 0, 100) * 652.80  # v2 Lab: L* 100 → 0xFF00
    encoded[:, 1:] = np.clip((lab[:, 1:] + 128) * 256, 0, 65535)
    clut = np.round(encoded).astype(">u2").tobytes()
    identity = b"".join(_s15(v) for v in (1, 0, 0, 0, 1, 0, 0, 0, 1))
    ramp = np.array([0, 65535], dtype=">u2").tobytes()
    lut = (b"mft2" + b"\0" * 4 + struct.pack(">BBBB", 4, 3, grid, 0) + identity
           + struct.pack(">HH", 2, 2) + ramp * 4 + clut + ramp * 3)
    return _assemble(b"prtr", b"CMYK", b"Lab ", [
        (b"desc", _desc_tag("Cutroom test press CMYK")),
        (b"cprt", _text_tag("Public domain test profile")),
        (b"wtpt", _xyz_tag(D50)),
        (b"A2B0", lut),
        (b"A2B1", lut),
    ])


# --- Colour difference -----------------------------------------------------------------------

D65 = np.array([0.95047, 1.0, 1.08883])
_SRGB_D65 = np.array([[0.4124564, 0.3575761, 0.1804375],
                      [0.2126729, 0.7151522, 0.0721750],
                      [0.0193339, 0.1191920, 0.9503041]])


def xyz_to_lab(xyz: np.ndarray, white: np.ndarray = D65) -> np.ndarray:
    t = xyz / white
    eps, kappa = 216 / 24389, 24389 / 27
    f = np.where(t > eps, np.cbrt(t), (kappa * t + 16) / 116)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]),
                     200 * (f[..., 1] - f[..., 2])], axis=-1)


def srgb_to_lab(rgb8: np.ndarray) -> np.ndarray:
    v = rgb8.astype(np.float64) / 255
    linear = np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)
    return xyz_to_lab(linear @ _SRGB_D65.T)


def delta_e_2000(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    """CIEDE2000 (Sharma, Wu, Dalal 2005), element-wise over [..., 3] Lab arrays."""
    L1, a1, b1 = lab1[..., 0], lab1[..., 1], lab1[..., 2]
    L2, a2, b2 = lab2[..., 0], lab2[..., 1], lab2[..., 2]
    C1, C2 = np.hypot(a1, b1), np.hypot(a2, b2)
    Cbar = (C1 + C2) / 2
    G = 0.5 * (1 - np.sqrt(Cbar**7 / (Cbar**7 + 25.0**7)))
    a1p, a2p = (1 + G) * a1, (1 + G) * a2
    C1p, C2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p = np.degrees(np.arctan2(b1, a1p)) % 360
    h2p = np.degrees(np.arctan2(b2, a2p)) % 360
    dLp = L2 - L1
    dCp = C2p - C1p
    dhp = h2p - h1p
    dhp = np.where(dhp > 180, dhp - 360, dhp)
    dhp = np.where(dhp < -180, dhp + 360, dhp)
    dhp = np.where(C1p * C2p == 0, 0, dhp)
    dHp = 2 * np.sqrt(C1p * C2p) * np.sin(np.radians(dhp) / 2)
    Lbarp = (L1 + L2) / 2
    Cbarp = (C1p + C2p) / 2
    hsum = h1p + h2p
    hbarp = np.where(
        C1p * C2p == 0, hsum,
        np.where(np.abs(h1p - h2p) <= 180, hsum / 2,
                 np.where(hsum < 360, (hsum + 360) / 2, (hsum - 360) / 2)),
    )
    T = (1 - 0.17 * np.cos(np.radians(hbarp - 30)) + 0.24 * np.cos(np.radians(2 * hbarp))
         + 0.32 * np.cos(np.radians(3 * hbarp + 6)) - 0.20 * np.cos(np.radians(4 * hbarp - 63)))
    dtheta = 30 * np.exp(-(((hbarp - 275) / 25) ** 2))
    Rc = 2 * np.sqrt(Cbarp**7 / (Cbarp**7 + 25.0**7))
    Sl = 1 + 0.015 * (Lbarp - 50) ** 2 / np.sqrt(20 + (Lbarp - 50) ** 2)
    Sc = 1 + 0.045 * Cbarp
    Sh = 1 + 0.015 * Cbarp * T
    Rt = -np.sin(np.radians(2 * dtheta)) * Rc
    return np.sqrt((dLp / Sl) ** 2 + (dCp / Sc) ** 2 + (dHp / Sh) ** 2
                   + Rt * (dCp / Sc) * (dHp / Sh))


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    import zlib

    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def png16_rgb(arr: np.ndarray) -> bytes:
    """A 16-bit-per-channel RGB PNG, which Pillow cannot write itself."""
    import zlib

    height, width, _ = arr.shape
    rows = b"".join(b"\0" + arr[y].astype(">u2").tobytes() for y in range(height))
    return (b"\x89PNG\r\n\x1a\n"
            + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0))
            + _png_chunk(b"IDAT", zlib.compress(rows)) + _png_chunk(b"IEND", b""))


def png_declaring(width: int, height: int) -> bytes:
    """A PNG whose header declares ``width``×``height`` but carries almost no data: decoding
    it would take gigabytes or fail; probing must refuse it from the header alone."""
    import zlib

    return (b"\x89PNG\r\n\x1a\n"
            + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + _png_chunk(b"IDAT", zlib.compress(b"\0" * 1024)) + _png_chunk(b"IEND", b""))
