"""Uploads of a folder with its manifest, for the catalog and browser tests of QA 2026-12-06
(F2: a ZIP of a whole folder, F4: an unlisted identical copy beside a manifest row's file), and
the preview's "not mapped" list read back from its HTML."""

import html
import re

from tests.images import product_jpeg

SHOOT = (b"sku,title,filename,position\r\nZIP34-1,Shoe,front/DSC_100.jpg,MAIN\r\n"
         b"ZIP34-1,,back/DSC_100.jpg,PT01\r\n")
COPIES = (b"sku,title,filename,position\r\nMP35,Bag,MP35/a.jpg,PT03\r\n"
          b"MP35,,MP35/b.jpg,MAIN\r\n")


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
