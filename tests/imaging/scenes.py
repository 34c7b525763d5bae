"""Synthetic scenes and fake segmenters for the imaging engine tests (no Django, no DB)."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from cutouts.imaging.strokes import Stroke

FG = np.array([200, 30, 30], np.float32)  # product colour (red)
BG = np.array([245, 245, 245], np.float32)  # white sweep


class ColourSegmenter:
    """A model stand-in that 'sees' the red product: alpha from redness at the
    model's input size, then blurred like a real low-resolution model output."""

    def __init__(self, input_size: int = 320, blur: float = 1.0):
        self.input_size = input_size
        self.blur = blur
        self.calls = 0

    def predict(self, rgb: np.ndarray) -> np.ndarray:
        assert rgb.shape == (self.input_size, self.input_size, 3) and rgb.dtype == np.uint8
        self.calls += 1
        x = rgb.astype(np.float32)
        a = np.clip((x[..., 0] - 0.5 * (x[..., 1] + x[..., 2])) / (FG[0] - FG[1]), 0, 1)
        if self.blur:
            a = cv2.GaussianBlur(a, (0, 0), self.blur)
        return a.astype(np.float32)


class ConstSegmenter:
    """Returns the same known mask whatever the input."""

    def __init__(self, mask: np.ndarray):
        self.mask = mask.astype(np.float32)
        self.input_size = mask.shape[0]
        self.calls = 0

    def predict(self, rgb: np.ndarray) -> np.ndarray:
        self.calls += 1
        return self.mask.copy()


def compose(alpha: np.ndarray, fg=FG, bg=BG) -> np.ndarray:
    a = alpha[..., None].astype(np.float32)
    return np.clip(a * fg + (1 - a) * bg + 0.5, 0, 255).astype(np.uint8)


H, W = 576, 864  # 2.7x the model size, like the dev set


def body(h=H, w=W) -> np.ndarray:
    a = np.zeros((h, w), np.float32)
    cv2.rectangle(a, (w // 3, h // 4), (2 * w // 3, 3 * h // 4), 1.0, -1)
    return a


def feathered_scene():
    a = np.zeros((H, W), np.float32)
    cv2.ellipse(a, (W // 2, H // 2), (W // 5, H // 3), 0, 0, 360, 1.0, -1, cv2.LINE_AA)
    # right side of a box fades out over 60 px: a feathered edge
    x0, x1 = W // 2, W // 2 + 260
    ramp = np.clip(1 - (np.arange(W, dtype=np.float32) - (x1 - 60)) / 60, 0, 1)
    box = np.zeros_like(a)
    box[H // 3:2 * H // 3, x0:x1] = ramp[None, x0:x1]
    a = np.maximum(a, box)
    return compose(a), a


def hair_scene(seed=0):
    rng = np.random.default_rng(seed)
    a = np.zeros((H, W), np.float32)
    cx, cy = W // 2, H // 2 + 40
    cv2.ellipse(a, (cx, cy), (W // 6, H // 4), 0, 0, 360, 1.0, -1, cv2.LINE_AA)
    strands = np.zeros_like(a)
    for _ in range(40):
        ang = rng.uniform(np.pi * 1.1, np.pi * 1.9)
        length = rng.uniform(80, 180)
        x0 = cx + np.cos(ang) * W / 6 * 0.9
        y0 = cy + np.sin(ang) * H / 4 * 0.9
        x1, y1 = x0 + np.cos(ang) * length, y0 + np.sin(ang) * length
        cv2.line(strands, (int(x0), int(y0)), (int(x1), int(y1)),
                 float(rng.uniform(0.6, 1.0)), 2, cv2.LINE_AA)
    a = np.maximum(a, strands)
    return compose(a), a


def glass_scene():
    a = np.zeros((H, W), np.float32)
    cv2.rectangle(a, (W // 4, H // 5), (3 * W // 4, 4 * H // 5), 1.0, -1)
    a[H // 5 + 40:4 * H // 5 - 40, W // 4 + 40:3 * W // 4 - 40] = 0.45  # glass pane
    return compose(a), a


def thin_line_scene():
    a = body()
    # a 3 px strap (1.1 model px) leaving the product
    cv2.line(a, (2 * W // 3, H // 3), (W - 40, 40), 1.0, 3, cv2.LINE_AA)
    return compose(a), a


def shadow_scene():
    """Red box standing on a white sweep, with a soft grey contact shadow under it."""
    h, w = H, W
    rows = np.linspace(250, 236, h, dtype=np.float32)[:, None, None]
    img = np.repeat(np.repeat(rows, w, axis=1), 3, axis=2)
    shade = np.zeros((h, w), np.float32)
    bottom = 3 * h // 4
    cv2.ellipse(shade, (w // 2, bottom + 6), (w // 5, 26), 0, 0, 360, 1.0, -1)
    shade = cv2.GaussianBlur(shade, (0, 0), 8) * 0.45
    img = img * (1 - shade[..., None])
    a = np.zeros((h, w), np.float32)
    cv2.rectangle(a, (w // 3 + 20, h // 4), (2 * w // 3 - 20, bottom), 1.0, -1)
    out = a[..., None] * FG + (1 - a[..., None]) * img
    return np.clip(out + 0.5, 0, 255).astype(np.uint8), a, shade

# the retouch tests' photos (clicks and strokes): smaller than the dev set's, so a test is quick
RETOUCH_H, RETOUCH_W = 360, 480
YELLOW = (225, 200, 40)
RED = (190, 30, 40)


def busy_background(seed=0, yellowish=True):
    """Roses-like clutter: blotches of many colours, yellow among them, plus pixel noise."""
    rng = np.random.default_rng(seed)
    img = np.full((RETOUCH_H, RETOUCH_W, 3), (60, 90, 50), np.uint8)
    palette = [(150, 40, 70), (200, 90, 120), (70, 120, 60), (40, 60, 30)]
    if yellowish:
        palette.append((220, 195, 50))
    for _ in range(260):
        c = palette[rng.integers(len(palette))]
        cv2.circle(img, (int(rng.integers(RETOUCH_W)), int(rng.integers(RETOUCH_H))),
                   int(rng.integers(4, 14)), tuple(int(v) for v in c), -1)
    noise = rng.normal(0, 6, img.shape)
    return np.clip(img + noise, 0, 255).astype(np.uint8)


def banana_scene():
    """A red body with a yellow banana on it; the prior (the model) missed the banana.
    The busy background has yellow blotches of the same colour, away from the object."""
    rgb = busy_background()
    body = np.zeros((RETOUCH_H, RETOUCH_W), np.uint8)
    cv2.rectangle(body, (150, 110), (330, 300), 255, -1)
    banana = np.zeros((RETOUCH_H, RETOUCH_W), np.uint8)
    cv2.ellipse(banana, (240, 90), (70, 22), 0, 0, 360, 255, -1)
    banana &= ~body
    rgb[(body | banana) > 0] = 0
    rgb[body > 0] = RED
    rgb[banana > 0] = YELLOW
    rgb = cv2.GaussianBlur(rgb, (3, 3), 0)
    truth = np.maximum(body, banana)
    prior = cv2.GaussianBlur(body, (5, 5), 0)  # the model's alpha: the body only
    return rgb, prior, truth, banana > 0


def handle_scene(seed=3):
    """A red body with a handle above it: a frame 6 px thick with a 5 px bar down its middle,
    both a grey close to the background's (ΔLab ≈ 17 on OpenCV's 8-bit scale; the colour
    model cannot tell them apart). The model filled the two holes of the handle."""
    rng = np.random.default_rng(seed)
    rgb = np.full((RETOUCH_H, RETOUCH_W, 3), (118, 120, 116), np.float32)
    body = np.zeros((RETOUCH_H, RETOUCH_W), np.uint8)
    cv2.rectangle(body, (140, 200), (340, 320), 255, -1)
    outer = np.zeros((RETOUCH_H, RETOUCH_W), np.uint8)
    cv2.rectangle(outer, (170, 60), (310, 200), 255, -1)
    holes = np.zeros((RETOUCH_H, RETOUCH_W), np.uint8)
    cv2.rectangle(holes, (176, 66), (304, 199), 255, -1)
    bar = np.zeros((RETOUCH_H, RETOUCH_W), np.uint8)
    cv2.rectangle(bar, (238, 66), (242, 199), 255, -1)
    holes[bar > 0] = 0
    handle = (outer > 0) & (holes == 0) & (body == 0)
    rgb[handle] = (100, 104, 98)
    rgb[body > 0] = RED
    rgb = cv2.GaussianBlur(np.clip(rgb + rng.normal(0, 3, rgb.shape), 0, 255).astype(np.uint8),
                           (3, 3), 0)
    truth = ((body > 0) | handle).astype(np.uint8) * 255
    prior = cv2.GaussianBlur(np.maximum(body, outer), (5, 5), 0)
    return rgb, prior, truth, handle, holes > 0


def pencil_scene(seed=0):
    """A pale cup (the model has it) full of paper, and a thin pencil (black, yellow edges,
    12 px) leaning out of it across a large pale calculator of the paper's colour behind it;
    the model missed the pencil."""
    rng = np.random.default_rng(seed)
    h, w = 300, 400
    img = np.zeros((h, w, 3), np.float32)
    img[:] = (70, 62, 88)
    cup = np.zeros((h, w), np.uint8)
    cv2.rectangle(cup, (60, 170), (260, 299), 255, -1)
    img[cup > 0] = (205, 205, 210)
    cv2.rectangle(img, (70, 190), (250, 299), (229, 219, 187), -1)
    calc = np.zeros((h, w), np.uint8)
    cv2.rectangle(calc, (200, 40), (330, 169), 255, -1)
    img[calc > 0] = (228, 218, 186)
    pencil = np.zeros((h, w), np.uint8)
    cv2.line(pencil, (300, 50), (200, 200), 255, 12)
    lead = np.zeros((h, w), np.uint8)
    cv2.line(lead, (300, 50), (200, 200), 255, 7)
    img[pencil > 0] = (235, 210, 40)
    img[lead > 0] = (35, 33, 32)
    img = cv2.GaussianBlur(img + rng.normal(0, 3, img.shape), (3, 3), 0)
    prior = cv2.GaussianBlur(cup, (5, 5), 0)
    return (np.clip(img, 0, 255).astype(np.uint8), prior, np.maximum(cup, pencil),
            (calc > 0) & (pencil == 0), pencil > 0)


def ring_scene():
    """A red ring whose hole shows the background; the model filled the hole at alpha 106
    (seen as a grey ghost, not solid), and its edges are soft."""
    rgb = busy_background(2, yellowish=False)
    ring = np.zeros((RETOUCH_H, RETOUCH_W), np.uint8)
    cv2.circle(ring, (220, 180), 110, 255, -1)
    cv2.circle(ring, (220, 180), 55, 0, -1)
    rgb[ring > 0] = RED
    hole = np.zeros((RETOUCH_H, RETOUCH_W), np.uint8)
    cv2.circle(hole, (220, 180), 55, 255, -1)
    prior = np.maximum(cv2.GaussianBlur(ring, (5, 5), 0), (hole > 0).astype(np.uint8) * 106)
    return rgb, prior, ring > 0, hole > 0


def red_disk_on_roses(seed: int, centre: tuple[int, int], radius: int
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Busy roses without yellow (``busy_background``) and a solid red disk on them: the photo
    and the disk's mask (uint8, 255 inside)."""
    rgb = busy_background(seed, yellowish=False)
    body = np.zeros((RETOUCH_H, RETOUCH_W), np.uint8)
    cv2.circle(body, centre, radius, 255, -1)
    rgb[body > 0] = RED
    return rgb, body


def wrong_blob_scene():
    """The object, and a wrong solid blob the model kept: one apart from the object, one
    glued to its side; every edge soft (about 2 px of 1..254)."""
    rgb, obj = red_disk_on_roses(4, (150, 200), 80)
    apart = np.zeros((RETOUCH_H, RETOUCH_W), np.uint8)
    cv2.ellipse(apart, (380, 90), (50, 32), 15, 0, 360, 255, -1)
    glued = np.zeros((RETOUCH_H, RETOUCH_W), np.uint8)
    cv2.rectangle(glued, (225, 230), (300, 290), 255, -1)
    prior = cv2.GaussianBlur(np.maximum.reduce([obj, apart, glued]), (5, 5), 0)
    return rgb, prior, obj > 0, apart > 0, (glued > 0) & (obj == 0)


def fur_flank_scene(seed=0):
    """A solid body left of x = 90, then a wide flank of fur (truth alpha 0.75 with opaque
    strands) in front of a backdrop of almost the fur's colour; the model left the flank
    translucent at 90/255."""
    rng = np.random.default_rng(seed)
    h, w = 200, 260
    back = np.array((150, 110, 70), np.float32) + rng.normal(0, 6, (h, w, 3))
    fur = np.array((160, 118, 76), np.float32) + rng.normal(0, 6, (h, w, 3))
    a = np.zeros((h, w), np.float32)
    a[:, :90] = 1.0
    a[:, 90:170] = 0.75
    a[:, rng.integers(90, 170, 40)] = 1.0
    a = cv2.GaussianBlur(a, (3, 3), 0)
    rgb = np.clip(a[..., None] * fur + (1 - a[..., None]) * back, 0, 255).astype(np.uint8)
    model = np.zeros((h, w), np.uint8)
    model[:, :90] = 255
    model[:, 90:170] = 90
    return rgb, cv2.GaussianBlur(model, (7, 7), 0), a


def fur_ring_scene(gap: int = 0):
    """A 200 x 240 photo: an opaque body (disk, alpha 255), a fur ring 22 px wide around it the
    cutout holds falling from 124 to 84, and a grey smear beside it held at 56-72 (a plateau)
    that touches the fur's outer edge (``gap`` px of clear background between them when > 0).
    Fur and smear are the same grey in the photo: only the alpha tells them apart."""
    h, w = 200, 240
    yy, xx = np.mgrid[:h, :w]
    d = np.hypot(yy - 100, xx - 90)
    rng = np.random.default_rng(3)
    rgb = np.empty((h, w, 3), np.uint8)
    rgb[...] = (200, 120, 60)  # orange backdrop
    body, fur = d <= 50, (d > 50) & (d <= 72)
    rgb[body] = (235, 225, 205)
    rgb[fur] = (170, 168, 165)
    alpha = np.zeros((h, w), np.uint8)
    alpha[body] = 255
    alpha[fur] = np.clip(124 - (d[fur] - 50) * 40 / 22, 84, 124).astype(np.uint8)
    smear = (xx >= 90 + 72 + gap) & (xx < 230) & (yy >= 60) & (yy < 170) & ~body & ~fur
    rgb[smear] = (170, 168, 165)
    alpha[smear] = (64 + rng.integers(-8, 9, smear.sum())).astype(np.uint8)
    rgb = np.clip(rgb.astype(int) + rng.integers(-3, 4, rgb.shape), 0, 255).astype(np.uint8)
    return rgb, alpha, body, fur, smear


def strand_clump_scene(seed: int, size: tuple[int, int], *, solid_to: int, strands: range,
                       jitter: int, strength: float, held_to: int
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Dark hair solid left of x = ``solid_to`` with 1 px strands (alpha ``strength``, one from
    each x of ``strands`` down the photo, leaning up to ``jitter`` px) on a light sky, and the
    model's cutout of it: filled solid left of ``held_to`` (past the strands), its edge blurred
    1.5 px. Returns the photo, the truth alpha and the cutout."""
    rng = np.random.default_rng(seed)
    h, w = size
    sky, hair = np.array((200, 210, 230), np.float32), np.array((60, 40, 25), np.float32)
    a = np.zeros((h, w), np.float32)
    a[:, :solid_to] = 1.0
    for x in strands:
        cv2.line(a, (x, 0), (x + int(rng.integers(-jitter, jitter + 1)), h - 1), strength, 1)
    rgb = np.clip(a[..., None] * hair + (1 - a[..., None]) * sky + rng.normal(0, 3, (h, w, 3)),
                  0, 255).astype(np.uint8)
    held = np.zeros((h, w), np.uint8)
    held[:, :held_to] = 255
    return rgb, a, cv2.GaussianBlur(held, (0, 0), 1.5)


def wrong_subject_scene():
    """The model took the wrong subject: a box it held solid, white with dark, blue and yellow
    stripes below (a traffic box), larger than and apart from the product it dropped whole (a
    pale disk shaded as a lit product is), on busy roses strewn with pale petals of the
    product's colours. The photo, the prior (uint8), the product's and the box's masks."""
    rgb, product = red_disk_on_roses(5, (110, 190), 80)
    rng = np.random.default_rng(7)
    for _ in range(60):
        c = int(rng.integers(170, 240))
        cv2.circle(rgb, (int(rng.integers(RETOUCH_W)), int(rng.integers(RETOUCH_H))),
                   int(rng.integers(3, 8)), (c, c - 10, c - 20), -1)
    ys = np.arange(RETOUCH_H, dtype=np.float32)[:, None, None]
    shade = np.clip((ys - 105) / 170, 0, 1)
    lit = (1 - shade) * np.float32((245, 235, 225)) + shade * np.float32((150, 140, 130))
    lit = np.broadcast_to(lit, rgb.shape)
    rgb[product > 0] = lit[product > 0].astype(np.uint8)
    box = np.zeros((RETOUCH_H, RETOUCH_W), np.uint8)
    cv2.rectangle(box, (300, 30), (460, 190), 255, -1)
    rgb[box > 0] = (235, 235, 230)
    for y0, colour in ((145, (45, 45, 50)), (160, (40, 70, 160)), (175, (200, 160, 40))):
        rgb[(box > 0) & (ys[..., 0] >= y0)] = colour
    rgb = cv2.GaussianBlur(rgb, (3, 3), 0)
    prior = cv2.GaussianBlur(box, (5, 5), 0)
    return rgb, prior, product > 0, box > 0


def photographed(rgb: np.ndarray, rng: np.random.Generator, noise: float = 3.0,
                 blur: float = 0.8) -> np.ndarray:
    """A drawn float scene as a camera gives it: sensor noise, a lens's slight blur, uint8."""
    rgb = rgb + rng.normal(0, noise, rgb.shape)
    return np.clip(cv2.GaussianBlur(rgb, (0, 0), blur), 0, 255).astype(np.uint8)


#: where a drawn scene paints a colour or its cutout holds a value: a bool mask, or an index
#: such as ``np.s_[100:200, 20:100]``
Region = np.ndarray | tuple[slice, slice]
#: what a drawn scene paints: one colour, or a float image (H, W, 3) of one per pixel (a
#: texture drawn first; a region takes its own pixels of it)
Colour = tuple[int, int, int] | np.ndarray


def box_mask(shape: tuple[int, int], y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
    """A bool mask of ``shape`` holding rows ``y0:y1`` of columns ``x0:x1``."""
    mask = np.zeros(shape, bool)
    mask[y0:y1, x0:x1] = True
    return mask


def sensor_noise(rgb: np.ndarray, rng: np.random.Generator, noise: float = 3.0) -> np.ndarray:
    """A drawn float scene with a camera's sensor noise only (no lens blur, as
    :func:`photographed` adds), uint8."""
    return np.clip(rgb + rng.normal(0, noise, rgb.shape), 0, 255).astype(np.uint8)


def drawn_scene(rng: np.random.Generator, shape: tuple[int, int], backdrop: Colour,
                paint: list[tuple[Region, Colour]],
                held: list[tuple[Region, int]],
                camera: Callable[[np.ndarray, np.random.Generator], np.ndarray] = sensor_noise
                ) -> tuple[np.ndarray, np.ndarray]:
    """Objects drawn on a backdrop and the cutout's alpha of them, as the cut tests open their
    scenes: the ``backdrop`` colour over ``shape`` (H, W), each (region, colour) of ``paint``
    painted in turn (a :data:`Colour`: one, or an image of one per pixel), taken by ``camera``
    with ``rng`` (sensor noise; :func:`photographed` adds a lens's blur); the alpha 0 but for
    each (region, value) of ``held``, filled in turn. Returns (rgb uint8, alpha uint8)."""
    rgb = np.full((*shape, 3), backdrop, np.float32)
    for region, colour in paint:
        rgb[region] = colour[region] if isinstance(colour, np.ndarray) else colour
    alpha = np.zeros(shape, np.uint8)
    for region, value in held:
        alpha[region] = value
    return camera(rgb, rng), alpha


def frame_round_gap(rng: np.random.Generator, backdrop: Colour, frame: Colour,
                    outer: np.ndarray, gap: np.ndarray, *, blur: float,
                    rim: tuple[tuple[int, int, int], int] | None = None,
                    seen: Colour | None = None, held: list[tuple[Region, int]] | None = None
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """An object framing a gap the backdrop shows through, the model having filled the gap (a
    wheel, a frame, foliage round sky), drawn with :func:`drawn_scene`: the ``frame`` colour
    on ``outer`` but its ``gap`` (bool masks of the scene's shape), a ``rim`` (colour, band:
    the frame's inner ``band`` px) when given, the gap showing ``seen`` when given (else the
    ``backdrop``), taken by :func:`photographed` (noise 3, ``blur``). The cutout holds
    ``outer`` at 255 and the gap at 250, then each of ``held``. Returns the photo, the cutout,
    the frame (the truth: ``outer`` but the gap), the gap and the rim band (empty without a
    rim)."""
    inner = np.zeros_like(gap)
    paint: list[tuple[Region, Colour]] = [(outer & ~gap, frame)]
    if rim is not None:
        colour, band = rim
        k = np.ones((2 * band + 1, 2 * band + 1), np.uint8)
        inner = (cv2.dilate(gap.view(np.uint8), k) > 0) & ~gap
        paint.append((inner, colour))
    if seen is not None:
        paint.append((gap, seen))
    rgb, alpha = drawn_scene(rng, gap.shape, backdrop, paint,
                             [(outer, 255), (gap, 250), *(held or [])],
                             camera=lambda im, r: photographed(im, r, blur=blur))
    return rgb, alpha, outer & ~gap, gap.copy(), inner


def disk_on_mottle(seed: int, size: tuple[int, int], centre: tuple[int, int], radius: int, *,
                   backdrop: tuple[int, int, int], product: tuple[int, int, int],
                   mottle: tuple[float, float, float],
                   marks: Callable[[np.random.Generator, np.ndarray, np.ndarray, np.ndarray],
                                   object] | None = None
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The detail-brush solid-edge scenes: a disk of ``radius`` px round ``centre`` (y, x) of
    the ``product`` colour on a ``backdrop`` mottled by noise (``mottle``: its deviation, the
    blur sigma, the gain), photographed (the edge blurred 3 px, noise 2 levels). ``marks(rng,
    r, backdrop, product)`` paints a scene's own patches on the two float planes first (``r``:
    each pixel's distance from the centre). Returns the photo, the cutout (the disk, crisp and
    right) and ``r``."""
    rng = np.random.default_rng(seed)
    h, w = size
    yy, xx = np.mgrid[:h, :w]
    r = np.hypot(yy - centre[0], xx - centre[1])
    body = r < radius
    back = np.empty((h, w, 3), np.float32)
    back[:] = backdrop
    sd, sigma, gain = mottle
    back += cv2.GaussianBlur(rng.normal(0, sd, (h, w, 3)).astype(np.float32), (0, 0), sigma) * gain
    prod = np.empty((h, w, 3), np.float32)
    prod[:] = product
    if marks is not None:
        marks(rng, r, back, prod)
    photo = cv2.GaussianBlur(np.where(body[..., None], prod, back), (3, 3), 0)
    photo = photo + rng.normal(0, 2, photo.shape)
    return np.clip(photo, 0, 255).astype(np.uint8), np.where(body, 255, 0).astype(np.uint8), r


def arc_stroke(brush: float, centre: tuple[int, int], radius: int, angles: np.ndarray) -> Stroke:
    """A detail stroke of ``brush`` px along a circle's outline (``centre`` y, x and
    ``radius``), one point at each of ``angles`` (radians, y down)."""
    cy, cx = centre
    return Stroke("detail", brush, tuple((float(cx + radius * np.cos(a)),
                                          float(cy + radius * np.sin(a))) for a in angles))


def rail_scene(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, Stroke]:
    """The thin-rail case (dev photo 016's canopy rail, W3): a pale 3 px rail along y = 100
    with pale land above it and a dark shore below, a white hull from y = 150; the cutout as
    u2netp leaves such a rail: the rail held at 160, the shore seen under it at 100, the hull
    solid, the land clear. Returns the photo, the cutout, the rail's mask and an r 12 detail
    stroke along the rail."""
    rng = np.random.default_rng(seed)
    h, w = 200, 320
    yy, xx = np.mgrid[:h, :w]
    rgb = np.empty((h, w, 3), np.float32)
    land, hull = yy < 100, yy >= 150
    rgb[land] = (200, 185, 160)
    rgb[~land] = (70, 62, 55)
    rgb[hull] = (225, 228, 230)
    rail = (np.abs(yy - 100) <= 1) & (xx >= 20) & (xx < 300)
    rgb[rail] = (222, 224, 226)
    rgb += rng.normal(0, 6, (h, w, 1)) + rng.normal(0, 3, (h, w, 3))
    cut = np.full((h, w), 100, np.uint8)
    cut[land], cut[hull], cut[rail] = 0, 255, 160
    stroke = Stroke("detail", 12.0, tuple((float(x), 100.0) for x in range(40, 281, 8)))
    return np.clip(rgb, 0, 255).astype(np.uint8), cut, rail, stroke


def flyaway_scene(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Orange hair solid left of x = 40 with 1 px flyaway strands (alpha 0.3) reaching up to
    120 px beyond it over a smooth grey gradient sky, and the model's cutout of it: the solid
    hair only, its edge blurred 1.5 px (QA qa38b U1, soft-dev GT03). Returns the photo, the
    truth alpha and the cutout."""
    rng = np.random.default_rng(seed)
    h, w = 240, 240
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    sky = np.stack([110 + 0.15 * yy + 0.05 * xx, 118 + 0.15 * yy + 0.05 * xx,
                    130 + 0.12 * yy + 0.05 * xx], -1)
    hair = np.array((220, 90, 20), np.float32)
    a = np.zeros((h, w), np.float32)
    a[:, :40] = 1.0
    for _ in range(14):
        y, x, dy, dx = float(rng.uniform(0, h)), 38.0, float(rng.uniform(-0.6, 0.6)), 1.0
        for _ in range(int(rng.integers(60, 120))):
            ny, nx = y + dy, x + dx
            cv2.line(a, (int(x), int(y)), (int(nx), int(ny)), 0.3, 1)
            y, x, dy = ny, nx, float(np.clip(dy + rng.normal(0, 0.08), -1, 1))
    a = np.maximum(a, 0)
    rgb = photographed(a[..., None] * hair + (1 - a[..., None]) * sky, rng, noise=2.0)
    held = np.zeros((h, w), np.uint8)
    held[:, :40] = 255
    return rgb, a, cv2.GaussianBlur(held, (0, 0), 1.5)


def leg_past_board(seed: int, *, leg_width: int, board: tuple[int, int, int, int],
                   leg_rgb: tuple[int, int, int], board_rgb: tuple[int, int, int], blur: float
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """dev photo 053's shape: a white body (held by the cutouts built on it) and its foreleg
    running past a white sign board (``board`` = y0, y1, x0, x1) on a dark green backdrop:
    (rgb, body, leg, board) on 240 x 320; the callers set what the model held."""
    rng = np.random.default_rng(seed)
    h, w = 240, 320
    rgb = np.zeros((h, w, 3), np.float32)
    rgb[:] = (40, 90, 60)
    body = np.zeros((h, w), bool)
    body[30:210, 200:290] = True
    leg_u8 = np.zeros((h, w), np.uint8)
    cv2.line(leg_u8, (190, 80), (130, 215), 255, leg_width)
    leg = leg_u8 > 0
    plate = np.zeros((h, w), bool)
    y0, y1, x0, x1 = board
    plate[y0:y1, x0:x1] = True
    plate &= ~leg
    rgb[plate] = board_rgb
    rgb[body] = (238, 236, 232)
    rgb[leg] = leg_rgb
    rgb = np.clip(cv2.GaussianBlur(rgb, (0, 0), blur) + rng.normal(0, 3, rgb.shape), 0, 255)
    return rgb.astype(np.uint8), body, leg, plate


def beyond_take(piece: float, line_held: float, piece_right: int) -> tuple[np.ndarray, ...]:
    """A remove stroke's take of 40 x 56 px in a window of 40 x 60: a brush over its left 20
    columns with the centre line along row 20, held at ``line_held``, and beyond the brush a
    16 px tall part held at ``piece`` from column 30 to ``piece_right`` (the guards that spare
    what lies beyond a brush: retouch_cut's ``_doubt_beyond``, ``_firm_beyond``)."""
    gated = np.zeros((40, 60), bool)
    gated[2:38, 2:58] = True
    b = np.zeros_like(gated)
    b[2:38, 2:22] = True
    line = np.zeros_like(gated)
    line[20, 4:20] = True
    held = np.full(gated.shape, 0.0, np.float32)
    held[gated] = line_held
    held[12:28, 30:piece_right] = piece
    dist = cv2.distanceTransform((~b).astype(np.uint8), cv2.DIST_L2, 5)
    return gated, b, dist, line, held
