"""Uploads of a folder with its manifest, for the catalog and browser tests of QA 2026-12-06
(F2: a ZIP of a whole folder, F4: an unlisted identical copy beside a manifest row's file,
qa34c #4: a second manifest differing only in case), the table of which path is an upload's
manifest (``archives.manifest_path`` and upload.js ``manifestPathOf`` are both held to it), and
the preview's "not mapped" list read back from its HTML."""

import html
import re

from tests.images import product_jpeg

SHOOT = (b"sku,title,filename,position\r\nZIP34-1,Shoe,front/DSC_100.jpg,MAIN\r\n"
         b"ZIP34-1,,back/DSC_100.jpg,PT01\r\n")
COPIES = (b"sku,title,filename,position\r\nMP35,Bag,MP35/a.jpg,PT03\r\n"
          b"MP35,,MP35/b.jpg,MAIN\r\n")


#: (an upload's paths, the one that is its manifest or None): the rule of
#: ``archives.manifest_path``, which the page's ``manifestPathOf`` must give too.
MANIFEST_RULES: list[tuple[list[str], str | None]] = [
    (["manifest.csv", "x/manifest.csv", "x/a.jpg"], "manifest.csv"),
    (["shoot/MANIFEST.csv", "shoot/front/a.jpg", "shoot/back/a.jpg"], "shoot/MANIFEST.csv"),
    (["shoot/manifest.csv", "shoot/a.jpg", ".DS_Store", "__MACOSX/shoot/._a.jpg"],
     "shoot/manifest.csv"),
    (["shoot/manifest.csv", "other/a.jpg"], None),
    (["shoot/manifest.csv", "a.jpg"], None),
    (["shoot/sub/manifest.csv", "shoot/a.jpg"], None),
    (["shoot/notes.csv", "shoot/a.jpg"], None),
    (["shoot/", "shoot/manifest.csv"], "shoot/manifest.csv"),
    (["shoot\\manifest.csv", "shoot\\a.jpg"], "shoot\\manifest.csv"),
    (["a.jpg", "Manifest.CSV"], "Manifest.CSV"),
    # two manifests differing only in case: the first is the manifest (qa34c #4: the other
    # is said, ``archives.is_second_manifest``)
    (["Manifest.CSV", "manifest.csv", "a.jpg"], "Manifest.CSV"),
    (["shoot/manifest.csv", "shoot/MANIFEST.CSV", "shoot/a.jpg"], "shoot/manifest.csv"),
    # two top folders differing only in case are two folders: no single top folder
    (["shoot/manifest.csv", "Shoot/a.jpg"], None),
    # a path the import refuses is no manifest (QA 2026-12-06 qa34c #2: ../manifest.csv read)
    (["../manifest.csv", "../x.jpg"], None),
    (["/manifest.csv", "/x.jpg"], None),
    (["C:/manifest.csv", "C:/x.jpg"], None),
    (["shoot/../manifest.csv", "shoot/a.jpg"], None),
    ([".hidden/manifest.csv", "a.jpg"], None),
    ([], None),
]

#: qa34c #4: two manifests, the same path but for case, at the root and in the single top
#: folder: (files, the one read, the one skipped with a warning).
SECOND_MANIFESTS = [
    ({"manifest.csv": b"sku,title,filename,position\r\nMC35,Bag,a.jpg,MAIN\r\n",
      "Manifest.CSV": b"sku,title,filename,position\r\nMC35,Bag,a.jpg,PT05\r\n",
      "a.jpg": product_jpeg(1200, 900, seed=7)}, "manifest.csv", "Manifest.CSV"),
    ({"shoot/manifest.csv": b"sku,title,filename,position\r\nMC35,Bag,a.jpg,MAIN\r\n",
      "shoot/MANIFEST.CSV": b"sku,title,filename,position\r\nMC35,Bag,a.jpg,PT05\r\n",
      "shoot/a.jpg": product_jpeg(1200, 900, seed=7)}, "shoot/manifest.csv",
     "shoot/MANIFEST.CSV"),
]


def shoot(width: int = 1200, height: int = 900) -> dict[str, bytes]:
    """What macOS's "Compress" makes of a folder: the folder, and its metadata beside it."""
    return {"shoot/manifest.csv": SHOOT,
            "shoot/front/DSC_100.jpg": product_jpeg(width, height, seed=1),
            "shoot/back/DSC_100.jpg": product_jpeg(width, height, seed=2),
            "__MACOSX/shoot/._manifest.csv": b"\0\5\26\7"}


def copies(width: int = 1200, height: int = 900) -> dict[str, bytes]:
    """MP35/a.jpg, which the manifest places, its identical unlisted copy, and MP35/b.jpg."""
    a = product_jpeg(width, height, seed=3)
    return {"MP35/a.jpg": a, "MP35/a copy.jpg": a,
            "MP35/b.jpg": product_jpeg(width, height, seed=4)}


def not_mapped(page: str) -> dict[str, str]:
    """The preview's files mapped to no product: name -> reason."""
    found = re.findall(r'<li data-preview-unmapped><span class="name">([^<]*)</span>: '
                       r"<span data-preview-reason>([^<]*)</span></li>", page)
    return {html.unescape(name): html.unescape(why) for name, why in found}
