"""``python -m cutouts.imaging``: cut|bench|models|clicks|detail|beside|solid|graze|replay|matte|
speed|profile commands."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .benchmark import IMAGE_EXTS, default_configs, run_benchmark
from .encode import decode_image, mask_png, rgba_png, shadow_png
from .models import REGISTRY, ModelError, resolve_model, validate_model_file
from .pipeline import run_pipeline
from .session import get_segmenter
from .settings import PROFILES, SHADOW_MODES, profile


def default_model_dir() -> str | None:
    """Where the app (settings.CUTROOM_MODEL_DIR) and ``install_isnet`` keep model files."""
    if os.environ.get("CUTROOM_MODEL_DIR"):
        return os.environ["CUTROOM_MODEL_DIR"]
    var = os.environ.get("CUTROOM_VAR_DIR")
    if var:
        return str(Path(var) / "models")
    here = Path(__file__).resolve().parent.parent.parent / "var" / "models"
    return str(here) if here.is_dir() else None


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


def cmd_cut(args: argparse.Namespace) -> int:
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


def cmd_bench(args: argparse.Namespace) -> int:
    paths = _model_paths(args.model_path)
    configs = default_configs(paths, args.model_dir, include_isnet=not args.no_isnet)
    if args.configs:
        wanted = set(args.configs.split(","))
        configs = [c for c in configs if c.name in wanted]
    from tqdm import tqdm

    from .benchmark import find_pairs, find_soft_triples

    if not args.data and not args.soft:
        print("error: give --data and/or --soft", file=sys.stderr)
        return 2
    n = (len(find_pairs(args.data)[: args.limit or None]) if args.data else 0) + \
        (len(find_soft_triples(args.soft)[: args.limit or None]) if args.soft else 0)
    with tqdm(total=n * len(configs), unit="run", file=sys.stderr, disable=args.quiet) as bar:
        run_benchmark(args.data, configs, args.json, args.limit, paths, args.model_dir,
                      args.threads, big_megapixels=args.big_mp,
                      progress=lambda name, stem: bar.update(1), soft_dir=args.soft)
    return 0


def cmd_models(args: argparse.Namespace) -> int:
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


def _retouch_segmenter(args: argparse.Namespace) -> Any:
    """The u2netp session the retouch benchmarks' automatic cutouts start from; None (the
    error printed) when the model cannot be loaded."""
    spec = resolve_model("u2netp", _model_paths(args.model_path), args.model_dir)
    try:
        return get_segmenter(spec, threads=args.threads)
    except ModelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None


def _run_retouch_benchmark(args: argparse.Namespace, runner: Callable[..., Any],
                           progress_line: Callable[[dict[str, Any]], str], **data: Any) -> int:
    """Run one of the retouch protocols (clicks or detail) from the arguments they share."""
    seg = _retouch_segmenter(args)
    if seg is None:
        return 2

    def progress(engine: str, stem: str, row: dict[str, Any]) -> None:
        if not args.quiet:
            print(f"{engine:<8} {stem:<12} {progress_line(row)}", file=sys.stderr)

    try:
        runner(**data, segmenter=seg,
               engines=("retouch", "paint") if args.baseline else ("retouch",),
               limit=args.limit, stems=set(args.stems.split(",")) if args.stems else None,
               cache_dir=args.cache_dir, out_json=args.json, progress=progress)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def cmd_clicks(args: argparse.Namespace) -> int:
    from . import clicks

    return _run_retouch_benchmark(args, clicks.run_clicks, clicks.progress_line,
                                  images_dir=args.images_dir, masks_dir=args.masks_dir,
                                  max_clicks=args.max_clicks, painted=args.painted)


def cmd_detail(args: argparse.Namespace) -> int:
    from . import detail_protocol

    return _run_retouch_benchmark(args, detail_protocol.run_detail, detail_protocol.progress_line,
                                  data_dir=args.data_dir, max_touches=args.max_touches,
                                  outline=args.outline)


def cmd_beside(args: argparse.Namespace) -> int:
    from . import beside_protocol

    return _run_retouch_benchmark(args, beside_protocol.run_beside, beside_protocol.progress_line,
                                  data_dir=args.data_dir, per_image=args.per_image)


def cmd_solid(args: argparse.Namespace) -> int:
    from . import detail_protocol

    return _run_retouch_benchmark(args, detail_protocol.run_solid,
                                  detail_protocol.solid_progress_line,
                                  images_dir=args.images_dir, masks_dir=args.masks_dir)


def cmd_matte(args: argparse.Namespace) -> int:
    from .matte_eval import run_matte

    try:
        run_matte(args.images_dir, args.trimaps, args.out, alpha_dir=args.alpha,
                  json_path=args.json, write_rgba=args.rgba, baseline=args.baseline)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def cmd_graze(args: argparse.Namespace) -> int:
    from . import detail_protocol

    return _run_retouch_benchmark(args, detail_protocol.run_graze,
                                  detail_protocol.graze_progress_line,
                                  images_dir=args.images_dir, masks_dir=args.masks_dir)


def cmd_replay(args: argparse.Namespace) -> int:
    from . import replay_protocol

    names = set(args.cases.split(",")) if args.cases else None
    eval_dir = args.eval_dir or replay_protocol.EVAL_DIR
    if args.check:
        try:
            cases = replay_protocol.read_cases(args.case_files or [replay_protocol.CASES_FILE])
            replay_protocol.check_cases(cases, eval_dir)
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(f"{len(cases)} replay cases OK on {len({c.photo for c in cases})} photos")
        return 0
    old = None
    if args.against:
        try:
            old = json.loads(Path(args.against).read_text())
        except (OSError, ValueError) as exc:
            print(f"error: --against {args.against}: {exc}", file=sys.stderr)
            return 2
    reports: list[dict[str, Any]] = []

    def run(**kw: Any) -> None:
        reports.append(replay_protocol.run_replay(**kw))

    rc = _run_retouch_benchmark(args, run, replay_protocol.progress_line,
                                case_files=args.case_files or None, eval_dir=eval_dir,
                                names=names)
    if old is not None and reports:
        print(replay_protocol.compare(old, reports[0]))
    return rc


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m cutouts.imaging")
    sub = ap.add_subparsers(dest="cmd", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--model-dir", default=default_model_dir(),
                        help="folder holding model files (default: $CUTROOM_MODEL_DIR, else "
                             "$CUTROOM_VAR_DIR/models, else var/models of this checkout, as the "
                             "web app and install_isnet use)")
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
    b.add_argument("--data", default=None, help="folder with images/ + masks/")
    b.add_argument("--soft", default=None, help="soft-alpha set: images/ + alpha/ + trimaps/")
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

    # what both retouch protocols (clicks, detail) take besides their data and touch count
    protocol = argparse.ArgumentParser(add_help=False, parents=[common])
    protocol.add_argument("--json", default=None)
    protocol.add_argument("--limit", type=int, default=None)
    protocol.add_argument("--stems", default=None, help="comma list of image stems to run")
    protocol.add_argument("--cache-dir", default=None, help="keep the automatic cutouts here")
    protocol.add_argument("--quiet", action="store_true")

    k = sub.add_parser("clicks", parents=[protocol],
                       help="interactive-segmentation click benchmark of the retouch engine")
    k.add_argument("images_dir")
    k.add_argument("masks_dir")
    k.add_argument("--max-clicks", type=int, default=20)
    k.add_argument("--baseline", action="store_true",
                   help="also run the baseline (click disks painted on the cutout) in the same run")
    k.add_argument("--painted", action="store_true",
                   help="painted keep/remove strokes along each error region instead of clicks "
                        "(--max-clicks then counts strokes)")
    k.set_defaults(func=cmd_clicks)

    d = sub.add_parser("detail", parents=[protocol],
                       help="detail-brush benchmark on a soft-alpha set (simulated touches)")
    d.add_argument("data_dir", help="folder with images/, alpha/ and trimaps/")
    d.add_argument("--max-touches", type=int, default=10)
    d.add_argument("--baseline", action="store_true",
                   help="also run the baseline (clicks painted as disks, detail strokes ignored)")
    d.add_argument("--outline", action="store_true",
                   help="the outline protocol: a keep and a remove click, then up to 6 detail "
                        "strokes along the cutout's own outline where the edge is soft")
    d.set_defaults(func=cmd_detail)

    bs = sub.add_parser("beside", parents=[protocol],
                        help="remove clicks on a soft-alpha set's background 10-30 px from its "
                             "fine detail, each alone: the detail they take, the haze they clear")
    bs.add_argument("data_dir", help="folder with images/, alpha/ and trimaps/")
    bs.add_argument("--per-image", type=int, default=8,
                    help="clicks per radius and kind (any / faint) per photo")
    bs.add_argument("--baseline", action="store_true",
                    help="also run the baseline (click disks painted on the cutout)")
    bs.set_defaults(func=cmd_beside)

    o = sub.add_parser("solid", parents=[protocol],
                       help="solid-edge protocol: detail strokes along a binary truth's edge, "
                            "where they must change next to nothing")
    o.add_argument("images_dir")
    o.add_argument("masks_dir")
    o.add_argument("--baseline", action="store_true",
                   help="also run the baseline (detail strokes ignored)")
    o.set_defaults(func=cmd_solid)

    gz = sub.add_parser("graze", parents=[protocol],
                        help="graze protocol: remove strokes along a binary truth's edge, just "
                             "outside it, where they must take no product")
    gz.add_argument("images_dir")
    gz.add_argument("masks_dir")
    gz.add_argument("--baseline", action="store_true",
                    help="also run the baseline (the strokes' disks painted on the cutout)")
    gz.set_defaults(func=cmd_graze)

    rp = sub.add_parser("replay", parents=[protocol],
                        help="replay reviewers' real stroke lists (cases) on the eval photos, "
                             "after each stroke, scored against the truth")
    rp.add_argument("case_files", nargs="*", metavar="CASES.json",
                    help="case files: {\"cases\": [...]}, a list or one case (default: "
                         "cutouts/imaging/replay_cases.json)")
    rp.add_argument("--eval-dir", default=None,
                    help="the eval sets' folder, holding dev/ and soft-dev/ (default: "
                         "../shared/eval beside this checkout)")
    rp.add_argument("--cases", default=None, help="comma list of case names to run")
    rp.add_argument("--check", action="store_true",
                    help="only check the case files and their photos, replay nothing")
    rp.add_argument("--baseline", action="store_true",
                    help="also run the baseline (the strokes' disks painted on the cutout)")
    rp.add_argument("--against", default=None, metavar="OLD.json",
                    help="compare case by case with another run's --json (old engine vs this; "
                         "on dev also the soft verdicts and soft counts)")
    rp.set_defaults(func=cmd_replay)

    t = sub.add_parser("matte", help="detail-brush matting with trimaps (128 = painted band)")
    t.add_argument("images_dir")
    t.add_argument("--trimaps", required=True, help="folder of trimaps paired by file stem")
    t.add_argument("--out", required=True, help="folder for the alpha PNGs")
    t.add_argument("--alpha", default=None, help="ground-truth alpha folder: print SAD/MSE/Grad")
    t.add_argument("--json", default=None)
    t.add_argument("--rgba", action="store_true",
                   help="also write <stem>.rgba.png with estimated foreground colours")
    t.add_argument("--baseline", choices=("pymatting",), default=None,
                   help="also run pymatting's closed-form matting in the same run")
    t.set_defaults(func=cmd_matte)

    g = sub.add_parser("_bigcut", parents=[common], help=argparse.SUPPRESS)
    g.add_argument("--mp", type=float, default=50.0)
    g.add_argument("--profile", default="default")
    g.add_argument("--source", default=None)
    g.set_defaults(func=lambda a: _bigcut(a))

    sp = sub.add_parser("speed", parents=[common],
                        help="end-to-end time and peak RSS per megapixel against plain")
    sp.add_argument("--mp", default="12,24", help="comma list of megapixel sizes")
    sp.add_argument("--configs", default="plain,fast,default")
    sp.add_argument("--json", default=None)
    sp.set_defaults(func=cmd_speed)

    pr = sub.add_parser("profile", parents=[common],
                        help="CPU per pipeline stage (decode, resize, model, refinement, encode)")
    pr.add_argument("--mp", default="2,12,24", help="comma list of megapixel sizes")
    pr.add_argument("--profile", default="fast", choices=sorted(PROFILES))
    pr.add_argument("--repeats", type=int, default=3, help="photos per size (median per stage)")
    pr.add_argument("--bare-repeats", type=int, default=10,
                    help="bare model calls timed as the floor")
    pr.add_argument("--json", default=None)
    pr.set_defaults(func=cmd_profile)

    args = ap.parse_args(argv)
    return args.func(args) or 0


def cmd_profile(args: argparse.Namespace) -> int:
    import cv2

    from .profile import bare_model_seconds, print_report, profile_sizes

    settings = profile(args.profile)
    spec = resolve_model(settings.model, _model_paths(args.model_path), args.model_dir)
    threads = args.threads or 1
    cv2.setNumThreads(threads)  # as a worker does (cutouts/engine.py)
    try:
        seg = get_segmenter(spec, threads=threads)
    except ModelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    sizes = [float(v) for v in args.mp.split(",")]
    report = profile_sizes(sizes, settings, seg, repeats=args.repeats,
                           progress=lambda mp: print(f"… {mp:g} MP", file=sys.stderr))
    bare = bare_model_seconds(seg, args.bare_repeats) if hasattr(seg, "predict_raw") else None
    print(f"profile {args.profile}, model {spec.name}, {threads} thread(s), CPU ms per stage "
          f"(median of {args.repeats}); load average {os.getloadavg()[0]:.2f}")
    print_report(report, bare)
    if args.json:
        Path(args.json).write_text(json.dumps(
            {"profile": args.profile, "model": spec.name, "threads": threads,
             "load_average": os.getloadavg(), "bare_model": bare, "sizes": report}, indent=2))
        print(f"wrote {args.json}")
    return 0


def cmd_speed(args: argparse.Namespace) -> int:
    from .bigimage import measure_speed

    report = {}
    print(f"{'MP':>5} {'config':<9}{'total s':>9}{'vs plain':>9}{'decode':>8}{'infer':>8}"
          f"{'refine':>8}{'encode':>8}{'ref s/MP':>9}{'enc s/MP':>9}{'RSS MB':>8}")
    for mp in (float(v) for v in args.mp.split(",")):
        runs = measure_speed(mp, tuple(args.configs.split(",")), args.model_dir, args.threads)
        report[str(mp)] = runs
        for name, r in runs.items():
            print(f"{r['megapixels']:>5.1f} {name:<9}{r['seconds']:>9.2f}"
                  f"{r.get('vs_plain', float('nan')):>8.2f}x{r['decode']:>8.2f}"
                  f"{r['inference']:>8.2f}{r['refinement']:>8.2f}{r['encode']:>8.2f}"
                  f"{r['s_per_mp']['refinement']:>9.3f}{r['s_per_mp']['encode']:>9.3f}"
                  f"{r['peak_rss_mb']:>8.0f}", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    return 0


def _bigcut(args: argparse.Namespace) -> int:
    from .bigimage import _child

    _child(args.mp, args.profile, args.model_dir, args.threads, args.source)
    return 0


if __name__ == "__main__":
    sys.exit(main())
