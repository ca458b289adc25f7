"""The companion's site (``make site``) as a reader sees it: every page in a real headless Chromium.

The site is (re)built with ``docs/build.py`` and served from 127.0.0.1; Chromium (Debian's
``chromium`` with ``chromium-driver``, driven by Selenium; nothing is downloaded) opens every HTML page and
the tests check: no console errors, every image loaded, math typeset by the site's own MathJax (no raw TeX
left, no MathJax error), no markdown table left as text, every internal link and anchor resolves, the sidebar
lists all chapters in order, previous/next links walk the chapters, each chapter shows its rerun command and
links its source notebook, the landing page carries the README's sections, and no request leaves 127.0.0.1.
A full-page screenshot of each page is saved under ``$MINDE_SITE_TEST_OUT/screenshots/`` (default
``build/site-test/``).

Without the site toolchain (``requirements-site.txt``, installed by ``make site``) or without Chromium the tests
skip, saying why; with ``MINDE_SITE_TEST=required`` (``.ci/run``) they fail instead.
"""

from __future__ import annotations

import ast
import functools
import http.server
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlparse

import pytest

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "build" / "site"
OUT = Path(os.environ.get("MINDE_SITE_TEST_OUT", ROOT / "build" / "site-test"))
REQUIRED = os.environ.get("MINDE_SITE_TEST", "") == "required"
CHROMIUM = os.environ.get("MINDE_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("MINDE_CHROMEDRIVER", "/usr/bin/chromedriver")
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
# the pages after the chapters in every sidebar; the paper notes once docs/paper.md exists
REFERENCE_PAGES = (
    "figures.html",
    *(("paper.html",) if (ROOT / "docs" / "paper.md").exists() else ()),
    "api.html",
    "reproduce.html",
)
NOT_PAGES = ("_static", "_images", "_downloads", "_sources")  # folders of assets, not pages
LOCAL_SCHEMES = ("data", "blob", "chrome")  # inline data, and the browser's own built-in pages
# "| a | b |": markdown table rows that did not become a table
RAW_TABLE = re.compile(r"(?:^|\s)\|\s[^|\n]+\s\|\s[^|\n]+\s\|(?:\s|$)")
RAW_MATH = re.compile(r"\$\$|\$[^$\s][^$\n]*\$|\\begin\{|\\\(|\\\[")
WINDOW = (1280, 1000)
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    # a request for any other host fails at once instead of waiting on the network (the tests also list them)
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
)


def unavailable(reason: str) -> None:
    if REQUIRED:
        pytest.fail(f"{reason} (MINDE_SITE_TEST=required)")
    pytest.skip(reason)


def chapter_page(nb: Path) -> str:
    return f"chapters/{nb.stem}.html"


def site_pages(site: Path) -> list[str]:
    """Every HTML page of the site, as paths relative to its root."""
    return sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html") if p.relative_to(site).parts[0] not in NOT_PAGES)


# --- what the browser saw ----------------------------------------------------------------------------

# Runs in the page once MathJax and the images are done; returns everything the checks need.
COLLECT_JS = r"""
const skip = "pre, code, script, style, mjx-container, .highlight, textarea, .sig";  // .sig: API signatures
const texts = [];
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
for (let n = walker.nextNode(); n; n = walker.nextNode()) {
  const el = n.parentElement;
  if (el && !el.closest(skip) && el.getClientRects().length) texts.push(n.nodeValue);
}
const maths = [...document.querySelectorAll("span.math, div.math")];
const nav = [...document.querySelectorAll("nav.bd-docs-nav a.reference.internal")];
const rel = (sel) => { const a = document.querySelector(sel); return a ? a.href : null; };
return {
  text: texts.join(" "),
  ids: [...document.querySelectorAll("[id]")].map(e => e.id).concat(
       [...document.querySelectorAll("a[name]")].map(e => e.name)),
  links: [...document.querySelectorAll("a[href]")].map(a => a.href),
  images: [...document.images].map(i => ({src: i.currentSrc || i.src, width: i.naturalWidth, complete: i.complete})),
  math: maths.length,
  typeset: maths.filter(m => m.querySelector("mjx-container")).length,
  containers: document.querySelectorAll("mjx-container").length,
  errors: [...document.querySelectorAll("mjx-merror")].map(e => e.getAttribute("data-mjx-error") || e.textContent),
  mathjax: typeof window.MathJax === "object" && !!window.MathJax.version ? window.MathJax.version : null,
  sidebar: nav.map(a => a.href),
  prev: rel("a.left-prev"),
  next: rel("a.right-next"),
  rerun: [...document.querySelectorAll(".rerun-chapter")].map(e => e.textContent),
  h2: [...document.querySelectorAll("article h2")].map(h => h.textContent.replace(/#$/, "").trim()),
  height: document.documentElement.scrollHeight,
};
"""

WAIT_JS = r"""
const done = arguments[arguments.length - 1];
const images = () => Promise.all([...document.images].map(i => i.complete ? null :
    new Promise(r => { i.addEventListener("load", r); i.addEventListener("error", r); })));
const mathjax = () => (window.MathJax && window.MathJax.startup && window.MathJax.startup.promise) || null;
(async () => {
  for (let k = 0; k < 200 && document.querySelector("span.math, div.math") && !mathjax(); k++)
    await new Promise(r => setTimeout(r, 50));  // MathJax's script is deferred
  if (mathjax()) await mathjax();
  await images();
  await document.fonts.ready;
})().then(() => done(true), (e) => done(String(e)));
"""


@dataclass
class Visit:
    page: str
    base: str  # the server's root URL
    console: list[str]  # SEVERE console messages
    requests: list[str]  # every URL the page requested
    data: dict  # what COLLECT_JS returned
    screenshot: Path
    seconds: float


class Server:
    """The built site over HTTP on 127.0.0.1 (an ephemeral port), in a thread."""

    def __init__(self, root: Path) -> None:
        handler = functools.partial(_QuietHandler, directory=str(root))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base class's name)
        pass


def _requests(performance_log: list[dict]) -> list[str]:
    urls = []
    for entry in performance_log:
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def _screenshot(driver, path: Path) -> None:
    """A full-page PNG: the window grown to the page's height, so the sidebars are laid out as a reader sees them
    (a capture beyond the viewport leaves the sticky header and sidebars where a scrolled window has them)."""
    width, height = WINDOW
    chrome = driver.execute_script("return window.outerHeight - window.innerHeight")
    driver.set_window_size(width, driver.execute_script("return document.documentElement.scrollHeight") + chrome)
    try:
        driver.execute_async_script(WAIT_JS)  # a relayout may load what was not yet in view
        path.write_bytes(driver.get_screenshot_as_png())
    finally:
        driver.set_window_size(width, height)


def _browser(profile: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_window_size(*WINDOW)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)
    return driver


# --- fixtures ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site() -> Path:
    try:
        import myst_nb  # noqa: F401
        import selenium  # noqa: F401
        import sphinx  # noqa: F401
    except ImportError as exc:
        unavailable(f"the site toolchain is not installed ({exc.name}); `make site` installs requirements-site.txt")
    for exe in (CHROMIUM, CHROMEDRIVER):
        if not (Path(exe).exists() or shutil.which(exe)):
            unavailable(f"{exe} not found: apt-get install chromium chromium-driver (or set MINDE_CHROMIUM / MINDE_CHROMEDRIVER)")
    start = time.perf_counter()
    build = subprocess.run([sys.executable, str(ROOT / "docs" / "build.py"), str(SITE)], capture_output=True, text=True)
    assert build.returncode == 0, f"the site does not build:\n{build.stdout[-4000:]}\n{build.stderr[-4000:]}"
    print(f"site (re)built in {time.perf_counter() - start:.1f} s")
    return SITE


@pytest.fixture(scope="module")
def visits(site: Path) -> dict[str, Visit]:
    """Every page of the site, opened once in Chromium: what it logged, requested, and showed."""
    shots = OUT / "screenshots"
    shutil.rmtree(shots, ignore_errors=True)
    shots.mkdir(parents=True)
    pages = site_pages(site)
    result: dict[str, Visit] = {}
    with Server(site) as server, tempfile.TemporaryDirectory(prefix="minde-chromium-") as profile:
        driver = _browser(Path(profile))
        try:
            driver.get("about:blank")
            for log in ("browser", "performance"):  # what the browser did at start-up, before any page
                driver.get_log(log)
            for k, page in enumerate(pages, 1):
                start = time.perf_counter()
                driver.get(server.url + page)
                waited = driver.execute_async_script(WAIT_JS)
                assert waited is True, f"{page}: waiting for MathJax and images failed: {waited}"
                data = driver.execute_script(COLLECT_JS)
                shot = shots / (page.replace("/", "__").removesuffix(".html") + ".png")
                _screenshot(driver, shot)
                console = [f"{e['level']}: {e['message']}" for e in driver.get_log("browser") if e["level"] == "SEVERE"]
                requests = _requests(driver.get_log("performance"))
                result[page] = Visit(page, server.url, console, requests, data, shot, time.perf_counter() - start)
                print(
                    f"[{k}/{len(pages)}] {page}: {time.perf_counter() - start:.1f} s, {data['math']} math, "
                    f"{len(data['images'])} images, {len(data['links'])} links",
                    flush=True,
                )
        finally:
            driver.quit()
    (OUT / "report.json").write_text(
        json.dumps(
            {
                p: {
                    "console": v.console,
                    "requests": v.requests,
                    "seconds": v.seconds,
                    "math": v.data["math"],
                    "images": len(v.data["images"]),
                }
                for p, v in result.items()
            },
            indent=1,
        )
    )
    return result


def _local_path(url: str, base: str) -> tuple[str, str] | None:
    """(page path relative to the site root, fragment) for a URL of the local server, else None."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or f"{parsed.scheme}://{parsed.netloc}/" != base:
        return None
    path, fragment = urldefrag(url)
    rel = unquote(urlparse(path).path).lstrip("/")
    return (rel or "index.html"), unquote(fragment)


# --- the checks ----------------------------------------------------------------------------------------


def test_every_page_visited_and_screenshotted(site: Path, visits: dict[str, Visit]) -> None:
    pages = site_pages(site)
    assert set(visits) == set(pages)
    expected = {"index.html", *REFERENCE_PAGES, *map(chapter_page, NOTEBOOKS)}
    assert expected <= set(pages), f"pages missing from the site: {sorted(expected - set(pages))}"
    for visit in visits.values():
        assert visit.screenshot.stat().st_size > 10_000, f"{visit.page}: screenshot {visit.screenshot} looks empty"


def test_no_console_errors(visits: dict[str, Visit]) -> None:
    errors = {page: v.console for page, v in visits.items() if v.console}
    assert not errors, f"console errors: {json.dumps(errors, indent=1)}"


def test_no_request_leaves_localhost(visits: dict[str, Visit]) -> None:
    outside = {}
    for page, visit in visits.items():
        assert visit.requests, f"{page}: no request recorded (is the performance log working?)"
        bad = [u for u in visit.requests if urlparse(u).scheme not in LOCAL_SCHEMES and urlparse(u).hostname != "127.0.0.1"]
        if bad:
            outside[page] = bad
    assert not outside, f"requests to other hosts (CDN scripts, fonts, styles?): {json.dumps(outside, indent=1)}"
    fonts = {u for v in visits.values() for u in v.requests if re.search(r"\.(woff2?|ttf|otf)(\?|$)", u)}
    assert all(urlparse(u).hostname == "127.0.0.1" for u in fonts)


def test_every_image_loaded(visits: dict[str, Visit]) -> None:
    broken = {page: [i["src"] for i in v.data["images"] if not i["complete"] or i["width"] <= 0] for page, v in visits.items()}
    assert not {p: b for p, b in broken.items() if b}, f"images that did not load: {broken}"
    for nb in NOTEBOOKS:  # each chapter shows its figures
        assert visits[chapter_page(nb)].data["images"], f"{chapter_page(nb)} shows no image"
    listed = re.findall(r"^\| `([^`]+)`", (ROOT / "figures" / "README.md").read_text(encoding="utf-8"), re.MULTILINE)
    assert len(visits["figures.html"].data["images"]) >= len(listed) > 0, "the figure index lacks thumbnails"


def test_math_typeset_by_the_local_mathjax(visits: dict[str, Visit]) -> None:
    for page, visit in visits.items():
        data = visit.data
        assert data["typeset"] == data["math"], f"{page}: {data['math'] - data['typeset']} of {data['math']} math not typeset"
        assert not data["errors"], f"{page}: MathJax errors {data['errors'][:5]}"
        if data["math"]:
            assert data["mathjax"], f"{page}: has math but MathJax did not load"
            assert data["containers"] >= data["math"]
        raw = sorted({m.group(0) for m in RAW_MATH.finditer(data["text"])})
        assert not raw, f"{page}: raw TeX left in the text: {raw[:10]}"
    for nb in NOTEBOOKS:
        assert visits[chapter_page(nb)].data["math"] > 0, f"{chapter_page(nb)} has no typeset math"


def test_no_raw_markdown_table_rows(visits: dict[str, Visit]) -> None:
    raw = {page: RAW_TABLE.findall(v.data["text"])[:3] for page, v in visits.items() if RAW_TABLE.search(v.data["text"])}
    assert not raw, f"table rows shown as text (a blank line inside a markdown table?): {raw}"


def test_internal_links_and_anchors_resolve(site: Path, visits: dict[str, Visit]) -> None:
    ids = {page: set(v.data["ids"]) for page, v in visits.items()}
    broken: list[str] = []
    checked = 0
    for page, visit in visits.items():
        for url in visit.data["links"]:
            local = _local_path(url, visit.base)
            if local is None:
                continue
            target, fragment = local
            checked += 1
            path = site / target
            if path.is_dir():
                path, target = path / "index.html", f"{target.rstrip('/')}/index.html".lstrip("/")
            if not path.is_file():
                broken.append(f"{page} -> {url} (no file {target})")
            elif fragment and target in ids and fragment not in ids[target]:
                broken.append(f"{page} -> {url} (no anchor #{fragment} in {target})")
    assert checked > 100, f"only {checked} internal links found"
    assert not broken, "broken internal links:\n" + "\n".join(broken)


def test_sidebar_lists_every_chapter_in_order(visits: dict[str, Visit]) -> None:
    for page, visit in visits.items():
        if page in ("search.html", "genindex.html", "py-modindex.html"):
            continue
        links = [urldefrag(u)[0] for u in visit.data["sidebar"]]
        chapters = [next((i for i, u in enumerate(links) if u.endswith("/" + chapter_page(nb))), -1) for nb in NOTEBOOKS]
        missing = [nb.stem for nb, i in zip(NOTEBOOKS, chapters, strict=True) if i < 0]
        assert not missing, f"{page}: the sidebar lacks {missing}"
        assert chapters == sorted(chapters), f"{page}: the sidebar lists the chapters out of order"
        for ref in REFERENCE_PAGES:
            assert any(u.endswith("/" + ref) for u in links), f"{page}: the sidebar lacks {ref}"


def test_previous_and_next_walk_the_chapters(visits: dict[str, Visit]) -> None:
    order = [chapter_page(nb) for nb in NOTEBOOKS]
    assert (visits["index.html"].data["next"] or "").endswith("/" + order[0])
    for k, page in enumerate(order):
        data = visits[page].data
        if k > 0:
            assert (data["prev"] or "").endswith("/" + order[k - 1]), f"{page}: previous is {data['prev']}"
        if k + 1 < len(order):
            assert (data["next"] or "").endswith("/" + order[k + 1]), f"{page}: next is {data['next']}"


def test_each_chapter_shows_its_rerun_command_and_source(site: Path, visits: dict[str, Visit]) -> None:
    import papermill

    for nb in NOTEBOOKS:
        page = chapter_page(nb)
        boxes = visits[page].data["rerun"]
        assert len(boxes) == 1, f"{page}: {len(boxes)} rerun boxes"
        box = boxes[0]
        assert f"python -m minde.notebooks notebooks/{nb.name}" in box
        for name in papermill.inspect_notebook(str(nb)):
            assert f"-p {name} " in box, f"{page}: the rerun command lacks the parameter {name}"
        sources = [u for u in visits[page].data["links"] if urlparse(u).path.endswith("/" + nb.name)]
        assert sources, f"{page}: no link to {nb.name}"
        target, _ = _local_path(sources[0], visits[page].base)
        assert (site / target).read_bytes() == nb.read_bytes(), f"{page}: the linked notebook is not notebooks/{nb.name}"


def test_landing_page_carries_the_readme(visits: dict[str, Visit]) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    intro = readme.split("## Rerun a notebook with other parameters")[0]
    headings = [h.strip() for h in re.findall(r"^## (.+)$", intro, re.MULTILINE)]
    shown = [re.sub(r"\s+", " ", h) for h in visits["index.html"].data["h2"]]
    assert headings, "README.md has no sections before 'Rerun a notebook'"
    for heading in headings:
        assert heading.replace("`", "") in shown, f"the landing page lacks the README section {heading!r} (has {shown})"


# --- the rerun command itself (no browser needed) ------------------------------------------------------


def _site_module():
    try:
        import sphinx  # noqa: F401
    except ImportError:
        unavailable("the site toolchain is not installed; `make site` installs requirements-site.txt")
    sys.path.insert(0, str(ROOT / "docs" / "_ext"))
    import minde_site

    return minde_site


def test_rerun_command_parses_back_to_the_defaults() -> None:
    """Every ``-p NAME VALUE`` of every chapter's command reads back, as ``minde.notebooks`` parses it, as the default."""
    import papermill

    from minde.experiments.notebooks import _literal

    site = _site_module()
    for chapter in site.chapters():
        spec = papermill.inspect_notebook(str(chapter.path))
        words = shlex.split(site.rerun_command(chapter, spec).replace("\\\n", " "))
        assert words[:4] == [".venv/bin/python", "-m", "minde.notebooks", f"notebooks/{chapter.path.name}"]
        pairs = words[4:]
        assert pairs[::3] == ["-p"] * len(spec)
        parsed = {name: _literal(value) for name, value in zip(pairs[1::3], pairs[2::3], strict=True)}
        assert parsed == {name: ast.literal_eval(s["default"]) for name, s in spec.items()}, chapter.stem


def test_cli_value_keeps_strings_that_look_like_literals() -> None:
    site = _site_module()
    assert site.cli_value('"vp"') == "vp"
    assert site.cli_value('"True"') == '"True"'  # bare, it would parse as a bool
    assert site.cli_value('"1e3"') == '"1e3"'
    assert site.cli_value("100_000") == "100_000"
    assert site.cli_value('["a", "b"]') == '["a", "b"]'


def test_figure_index_links_figures_to_chapters(tmp_path: Path) -> None:
    site = _site_module()
    (tmp_path / "a.png").write_bytes(b"png")
    chapter = site.Chapter(site.ROOT / "notebooks" / "03_minde_c.ipynb")
    header = "| file | what | notebook |\n|---|---|---|\n"
    readme = f"# figures/\n\n{header}| `a` | thing | 03 |\n| `gone` | lost | 03 |\n"
    index = site.figure_index(readme, tmp_path, {"03": chapter})
    assert index.listed == {"a", "gone"}
    rows = [row for row in index.text.splitlines() if row.startswith("|")]
    assert rows[:2] == header.splitlines()  # the header is kept
    assert "![a](" in rows[2] and rows[2].endswith("| thing | [03](chapters/03_minde_c.ipynb) |")
    assert "![gone]" not in rows[3] and "`gone`" in rows[3]
    assert index.problems == ["figures/README.md lists 'gone', but figures/gone.png does not exist"]
    assert "# figures/" not in index.text


def test_figure_index_flags_rows_cut_off_by_a_blank_line(tmp_path: Path) -> None:
    site = _site_module()
    chapter = site.Chapter(site.ROOT / "notebooks" / "03_minde_c.ipynb")
    readme = "| file | notebook |\n|---|---|\n| `a` | 03 |\n\n| `b` | 03 |\n| `c` | 03 |\n"
    problems = site.figure_index(readme, tmp_path, {"03": chapter}).problems
    stray = [p for p in problems if "outside a table" in p]
    assert stray == ["figures/README.md:5: table rows outside a table (a blank line ends a table)"]  # once, at the first


def test_escape_bars_only_outside_literals() -> None:
    site = _site_module()
    lines = [
        "the gap |mi - mi_sigma| and ||x||, not ``s_{X|Y}``::",
        "",
        "    a | b   # literal block",
        "back to |text|",
        ">>> x | y",
        "| a line block |",
    ]
    assert site.escape_bars(lines) == [
        r"the gap \|mi - mi_sigma\| and \|\|x\|\|, not ``s_{X|Y}``::",
        "",
        "    a | b   # literal block",
        r"back to \|text\|",
        ">>> x | y",
        "| a line block |",
    ]


def test_parameter_sections_become_definition_lists() -> None:
    site = _site_module()
    lines = ["Fit it.", "", "Parameters", "----------", 'variant: "c" or "j".', "steps, lr: the budget", "    (Adam).", ""]
    lines.append("Done.")
    assert site.parameter_lists(lines) == [
        "Fit it.", "", ".. rubric:: Parameters", "", "**variant**", '    "c" or "j".', "**steps**, **lr**", "    the budget",
        "    (Adam).", "", "", "Done.",
    ]  # fmt: skip
    numpy_style = ["Parameters", "----------", "x : int", "    The x."]
    assert site.parameter_lists(numpy_style) == numpy_style  # left to napoleon


def test_sidebar_lists_the_paper_notes_once_they_exist(tmp_path: Path) -> None:
    site = _site_module()
    (tmp_path / "api.md").write_text("# API\n")
    assert site.existing_reference_pages(tmp_path) == ["figures", "api"]
    (tmp_path / "paper.md").write_text("# Notes\n")
    assert site.existing_reference_pages(tmp_path) == ["figures", "paper", "api"]
    toc = site.toc(site.chapters(), site.existing_reference_pages(tmp_path))
    assert toc.index("chapters/01_") < toc.index(":caption: Reference") < toc.index("\npaper\n") < toc.index("\napi\n")
