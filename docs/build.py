"""Build the companion's site from the committed notebooks (``make site``): ``python docs/build.py [OUTDIR]``.

Runs Sphinx on ``docs/`` (see ``docs/conf.py``) into ``build/site/`` by default, and prints the time taken and
the number of pages.  Nothing is executed: the chapters show the notebooks' saved outputs.

Every Sphinx warning fails the build (a broken include, link, image, toctree entry or notebook), except the
docutils complaints about the formatting of a docstring of the ``minde`` package: those are listed, with where
to fix them, and the page shows that docstring as plain text.
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

START = time.perf_counter()
DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
SITE = ROOT / "build" / "site"


def pages(site: Path) -> list[Path]:
    """The site's HTML pages (not the theme's or MathJax's static files)."""
    return sorted(p for p in site.rglob("*.html") if not p.relative_to(site).parts[0].startswith("_"))


_WARNING = re.compile(r"^(?:.*?: )?(?:WARNING|ERROR|CRITICAL|SEVERE): ", re.MULTILINE)


def split_warnings(text: str) -> tuple[list[str], list[str]]:
    """Sphinx's warning file -> (docstring formatting warnings, every other warning), each with its detail lines."""
    starts = [m.start() for m in _WARNING.finditer(text)] + [len(text)]
    warnings = [text[a:b].strip() for a, b in zip(starts, starts[1:], strict=False)]
    docstring = [w for w in warnings if ":docstring of " in w.splitlines()[0]]
    return docstring, [w for w in warnings if w not in docstring]


def build(outdir: Path = SITE) -> int:
    from sphinx.cmd.build import build_main

    doctrees = outdir.parent / f"{outdir.name}-doctrees"
    warnfile = outdir.parent / f"{outdir.name}-warnings.txt"
    outdir.parent.mkdir(parents=True, exist_ok=True)
    print(f"building the site: sphinx-build docs -> {outdir}", flush=True)
    # -E: a fresh environment every time (seconds): an incremental build would keep the old sidebar on the pages
    # it does not rewrite when a page is added (docs/paper.md) or a chapter renamed
    args = ["-b", "html", "-E", "--keep-going", "-d", str(doctrees), "-w", str(warnfile), str(DOCS), str(outdir)]
    status = build_main(args)
    docstring, other = split_warnings(warnfile.read_text(encoding="utf-8") if warnfile.exists() else "")
    if docstring:
        print(f"{len(docstring)} docstring(s) of the minde package render as plain text (fix the docstring):")
        print("\n".join(f"  {w.splitlines()[0]}" for w in docstring))
    if status != 0 or other:
        print(f"site build FAILED: {len(other)} warning(s) (treated as errors), listed above and in {warnfile}")
        return status or 1
    print(f"site built in {time.perf_counter() - START:.1f} s: {len(pages(outdir))} pages -> {outdir / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(build(Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else SITE))
