"""CutoutSettings: the value object stored with every cutout, and quality profiles."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

SHADOW_MODES = ("none", "keep", "synthetic")


@dataclass(frozen=True)
class SyntheticShadow:
    contact_opacity: float = 0.45
    contact_blur: float = 0.02  # fraction of object height
    contact_height: float = 0.06  # vertical squash of the contact ellipse, fraction of height
    drop: bool = False
    drop_opacity: float = 0.3
    drop_blur: float = 0.03  # fraction of object height
    drop_offset_x: float = 0.02  # fraction of object width
    drop_offset_y: float = 0.03  # fraction of object height

    def validate(self) -> None:
        for name in ("contact_opacity", "drop_opacity"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"synthetic_shadow.{name} must be in [0, 1], got {v!r}")
        for name in ("contact_blur", "contact_height", "drop_blur"):
            v = getattr(self, name)
            if not 0.0 <= v <= 0.5:
                raise ValueError(f"synthetic_shadow.{name} must be in [0, 0.5], got {v!r}")
        for name in ("drop_offset_x", "drop_offset_y"):
            v = getattr(self, name)
            if not -0.5 <= v <= 0.5:
                raise ValueError(f"synthetic_shadow.{name} must be in [-0.5, 0.5], got {v!r}")


@dataclass(frozen=True)
class CutoutSettings:
    model: str = "u2netp"
    tta_flip: bool = True  # average with the horizontally flipped image
    # with tta_flip: where the two passes disagree, the photo's colours pick one (``colour``)
    colour_vote: bool = True
    crop_pass: bool = True  # second model pass on a crop around the object
    crop_flip: bool = False  # flip TTA on the crop pass too (a fourth model pass)
    crop_margin: float = 0.15  # crop margin as a fraction of the object box
    crop_weight: float = 0.5  # weight of the crop pass where both passes see a pixel
    refine: bool = True  # edge-aware upsampling + contrast shaping in the uncertain band
    edge_threshold: float = 0.55  # probability that becomes alpha 0.5
    edge_gain: float = 4.0  # logit gain of the edge shaping (1 = unchanged)
    keep_semi_transparent: bool = True  # do not steepen flat semi-transparent plateaus
    protect_thin: bool = True  # thin ridges (straps, strands) never lose alpha to shaping
    # matting in an unknown band that follows soft material (hair, fur); off by default: on
    # the dev sets it gains little on hair and adds halo on busy photos (see docs/engine.md)
    band: bool = False
    band_width: float = 3.0  # widest band (over the softest material), in model pixels
    subject: bool = True  # decide the subject; remove ghosts, faint far-off alpha (veil)
    decontaminate: bool = True
    shadow: str = "none"  # none | keep | synthetic
    synthetic_shadow: SyntheticShadow = field(default_factory=SyntheticShadow)
    keep_shadow_max_opacity: float = 0.8
    cleanup: bool = True
    min_speck_fraction: float = 0.002  # drop fragments smaller than this x object area
    max_hole_fraction: float = 0.0005  # fill holes smaller than this x image area
    tile_size: int = 1024  # refinement tile size at full resolution

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        from .models import REGISTRY

        if self.model not in REGISTRY:
            raise ValueError(f"model must be one of {', '.join(sorted(REGISTRY))}; "
                             f"got {self.model!r}")
        if self.shadow not in SHADOW_MODES:
            raise ValueError(f"shadow must be one of {', '.join(SHADOW_MODES)}; "
                             f"got {self.shadow!r}")
        for name in ("tta_flip", "colour_vote", "crop_pass", "crop_flip", "protect_thin",
                     "refine", "keep_semi_transparent", "band", "subject",
                     "decontaminate", "cleanup"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be true or false, got {getattr(self, name)!r}")
        checks = {
            "crop_margin": (0.0, 1.0), "crop_weight": (0.0, 1.0),
            "edge_threshold": (0.05, 0.95), "edge_gain": (0.5, 20.0),
            "keep_shadow_max_opacity": (0.0, 1.0), "min_speck_fraction": (0.0, 0.5),
            "max_hole_fraction": (0.0, 0.5), "band_width": (0.5, 12.0),
        }
        for name, (lo, hi) in checks.items():
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not lo <= v <= hi:
                raise ValueError(f"{name} must be a number in [{lo}, {hi}], got {v!r}")
        if isinstance(self.tile_size, bool) or not isinstance(self.tile_size, int) \
                or not 256 <= self.tile_size <= 8192:
            raise ValueError(f"tile_size must be an integer in [256, 8192], got {self.tile_size!r}")
        if not isinstance(self.synthetic_shadow, SyntheticShadow):
            raise ValueError("synthetic_shadow must be a SyntheticShadow")
        self.synthetic_shadow.validate()

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CutoutSettings:
        if not isinstance(data, dict):
            raise ValueError("settings must be a JSON object")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        kwargs = dict(data)
        if "synthetic_shadow" in kwargs:
            sub = kwargs["synthetic_shadow"]
            if isinstance(sub, dict):
                sknown = {f.name for f in dataclasses.fields(SyntheticShadow)}
                bad = set(sub) - sknown
                if bad:
                    raise ValueError(
                        f"unknown synthetic_shadow setting(s): {', '.join(sorted(bad))}"
                    )
                try:
                    kwargs["synthetic_shadow"] = SyntheticShadow(**sub)
                except TypeError as exc:
                    raise ValueError(str(exc)) from exc
            elif not isinstance(sub, SyntheticShadow):
                raise ValueError("synthetic_shadow must be an object")
        for k, v in list(kwargs.items()):
            # JSON has no int/float split: accept 1 for 1.0
            if k in ("crop_margin", "crop_weight", "edge_threshold", "edge_gain",
                     "keep_shadow_max_opacity", "min_speck_fraction", "max_hole_fraction",
                     "band_width") \
                    and isinstance(v, int) and not isinstance(v, bool):
                kwargs[k] = float(v)
        return cls(**kwargs)

    def replace(self, **changes: Any) -> CutoutSettings:
        return dataclasses.replace(self, **changes)


PROFILES: dict[str, CutoutSettings] = {
    # one model pass; shaping/refinement/decontamination and the subject decision only
    "fast": CutoutSettings(tta_flip=False, crop_pass=False, edge_threshold=0.5),
    # best quality: flip TTA + crop pass + refinement + subject decision (three model passes)
    "default": CutoutSettings(),
    # hair, fur, plush, wool: `default` plus the matting band opened wide over the material
    # and a lighter crop pass. Fine detail fades instead of being cut (soft-dev: Grad and
    # soft MAE better than plain, `default` is worse), at the price of more halo on busy
    # photos with hard edges (dev set); see docs/engine.md. Chosen per catalogue, not per image.
    "soft": CutoutSettings(band=True, band_width=12.0, crop_weight=0.3),
}


def profile_or_default(name: str) -> str:
    """The profile a re-run or retouch of a version cut with ``name`` starts from: the same
    one, or ``default`` for a name no longer (or never) in ``PROFILES``."""
    return name if name in PROFILES else "default"


def profile(name: str, **overrides: Any) -> CutoutSettings:
    try:
        base = PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown profile {name!r}; profiles: {', '.join(PROFILES)}") from None
    return base.replace(**overrides) if overrides else base
