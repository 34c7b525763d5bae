"""Command line: ``python -m cutouts.imaging cut|bench|models ...``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .benchmark import IMAGE_EXTS, default_configs, run_benchmark
from .encode import decode_image, mask_png, rgba_png, shadow_png
from .models import REGISTRY, ModelError, resolve_model, validate_model_file
from .pipeline import run_pipeline
from .session import get_segmenter
from .settings import PROFILES, SHADOW_MODES, profile


def _inputs(paths: list[str]) -> list[Path]:
    files = []
    for p in map(Path, paths):
        if p.is_dir():
            files += sorted(f for f in p.rglob("*") if f.suffix.lower() in IMAGE_EXTS)
        elif p.is_file():
            files.append(p)
        else:
            raise SystemExit(f"no such file or folder: {p}")
    return files


def _model_paths(items: list[str] | None) -> dict[str, str]:
    out = {}
    for item in items or []:
        name, _, path = item.partition("=")
        if not path:
            raise SystemExit(f"--model-path expects NAME=PATH, got {item!r}")
        out[name] = path
    return out


def cmd_cut(args) -> int:
    from tqdm import tqdm

    overrides = {}
    if args.model:
        overrides["model"] = args.model
    if args.tta is not None:
        overrides["tta_flip"] = args.tta
    if args.shadow:
        overrides["shadow"] = args.shadow
    if args.no_decontaminate:
        overrides["decontaminate"] = False
    settings = profile(args.profile, **overrides)
    paths = _model_paths(args.model_path)
    spec = resolve_model(settings.model, paths, args.model_dir)
    try:
        seg = get_segmenter(spec, threads=args.threads)
    except ModelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    files = _inputs(args.inputs)
    failures = 0
    for f in tqdm(files, unit="img", disable=args.quiet):
        try:
            res = run_pipeline(decode_image(f), settings, seg)
        except Exception as exc:  # noqa: BLE001 - report and continue with the batch
            failures += 1
            tqdm.write(f"{f}: {exc}")
            continue
        (out / f"{f.stem}.png").write_bytes(rgba_png(res))
        (out / f"{f.stem}.mask.png").write_bytes(mask_png(res))
        sh = shadow_png(res)
        if sh is not None:
            (out / f"{f.stem}.shadow.png").write_bytes(sh)
        meta = {"source": str(f), "bbox": res.bbox, "signals": res.signals,
                "timings": res.timings, "model": res.model_version, "settings": res.settings}
        (out / f"{f.stem}.json").write_text(json.dumps(meta, indent=2))
    return 1 if failures else 0


def cmd_bench(args) -> int:
    paths = _model_paths(args.model_path)
    configs = default_configs(paths, args.model_dir, include_isnet=not args.no_isnet)
    if args.configs:
        wanted = set(args.configs.split(","))
        configs = [c for c in configs if c.name in wanted]
    from tqdm import tqdm

    from .benchmark import find_pairs

    n = len(find_pairs(args.data)[: args.limit or None]) * len(configs)
    with tqdm(total=n, unit="run", file=sys.stderr, disable=args.quiet) as bar:
        run_benchmark(args.data, configs, args.json, args.limit, paths, args.model_dir,
                      args.threads, big_megapixels=args.big_mp,
                      progress=lambda name, stem: bar.update(1))
    return 0


def cmd_models(args) -> int:
    paths = _model_paths(args.model_path)
    status = 0
    for name in REGISTRY:
        spec = resolve_model(name, paths, args.model_dir)
        try:
            validate_model_file(spec)
            state = f"ok  {spec.version}"
        except ModelError as exc:
            state = f"--  {exc}"
            status = status or (1 if name == "u2netp" else 0)
        print(f"{name:<18} {spec.licence:<12.12} {state}")
    return status


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m cutouts.imaging")
    sub = ap.add_subparsers(dest="cmd", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--model-dir", default=None, help="folder holding model files")
    common.add_argument("--model-path", action="append", metavar="NAME=PATH")
    common.add_argument("--threads", type=int, default=None)

    c = sub.add_parser("cut", parents=[common], help="cut out files or folders")
    c.add_argument("inputs", nargs="+")
    c.add_argument("--out", required=True)
    c.add_argument("--profile", default="default", choices=sorted(PROFILES))
    c.add_argument("--model", choices=sorted(REGISTRY))
    c.add_argument("--tta", dest="tta", action="store_true", default=None)
    c.add_argument("--no-tta", dest="tta", action="store_false")
    c.add_argument("--shadow", choices=SHADOW_MODES)
    c.add_argument("--no-decontaminate", action="store_true")
    c.add_argument("--quiet", action="store_true")
    c.set_defaults(func=cmd_cut)

    b = sub.add_parser("bench", parents=[common], help="benchmark against plain")
    b.add_argument("--data", required=True)
    b.add_argument("--json", default=None)
    b.add_argument("--limit", type=int, default=None)
    b.add_argument("--configs", default=None, help="comma list, e.g. plain,fast")
    b.add_argument("--no-isnet", action="store_true")
    b.add_argument("--quiet", action="store_true")
    b.add_argument("--big-mp", type=float, default=None,
                   help="also measure peak RSS on a generated photo of this many MP")
    b.set_defaults(func=cmd_bench)

    m = sub.add_parser("models", parents=[common], help="list and validate models")
    m.set_defaults(func=cmd_models)

    g = sub.add_parser("_bigcut", parents=[common], help=argparse.SUPPRESS)
    g.add_argument("--mp", type=float, default=50.0)
    g.add_argument("--profile", default="default")
    g.set_defaults(func=lambda a: _bigcut(a))

    args = ap.parse_args(argv)
    return args.func(args) or 0


def _bigcut(args) -> int:
    from .bigimage import _child

    _child(args.mp, args.profile, args.model_dir, args.threads)
    return 0


if __name__ == "__main__":
    sys.exit(main())
