"""Sphinx extension that writes the generated pages of the companion's site (``make site``).

At ``config-inited`` it writes, next to the hand-written pages in ``docs/``:

* ``chapters/NN_*.ipynb``: each committed notebook of ``notebooks/``, outputs untouched (nothing is executed),
  with a "Rerun this chapter" box after its title: the ``python -m minde.notebooks`` command with every
  parameter of its ``parameters`` cell at its default (read by ``papermill.inspect_notebook``) and a link to the
  source notebook;
* ``figures.md``: ``figures/README.md`` with a thumbnail of each figure (linked to the full image) and its
  notebook number linked to the chapter;
* ``_generated/toc.md``: the sidebar (toctrees) that ``index.md`` includes: the chapters in order, then the
  reference pages that exist (``paper.md`` only once someone has written it).

Files are rewritten only when their content changes, so Sphinx's incremental rebuilds stay incremental.
Inconsistencies (a figure listed in ``figures/README.md`` without a PNG, a PNG the index does not list, a
notebook without a title) are Sphinx warnings, which ``make site`` turns into errors.
"""

from __future__ import annotations

import ast
import os
import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import nbformat
from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.util import logging

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
CHAPTER_DIR = "chapters"  # docnames chapters/NN_*; URLs chapters/NN_*.html
FIGURE_PAGE = "figures"
GENERATED = "_generated"  # not documents (excluded in conf.py), only included
#: the reference pages after the chapters, in sidebar order; those whose source is missing are left out
REFERENCE_PAGES = (FIGURE_PAGE, "paper", "api", "reproduce")


@dataclass(frozen=True)
class Chapter:
    path: Path  # notebooks/NN_name.ipynb

    @property
    def stem(self) -> str:
        return self.path.stem

    @property
    def number(self) -> str:
        return self.stem[:2]

    @property
    def docname(self) -> str:
        return f"{CHAPTER_DIR}/{self.stem}"

    @property
    def repo_path(self) -> str:
        return self.path.relative_to(ROOT).as_posix()


def chapters(root: Path = ROOT) -> list[Chapter]:
    """The numbered notebooks, in order: the book's chapters."""
    return [Chapter(p) for p in sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb"))]


# --- the rerun box ---------------------------------------------------------------------------------


def cli_value(default: str) -> str:
    """The ``-p NAME VALUE`` text that ``minde.notebooks`` parses back to the parameter's default.

    ``minde.notebooks`` reads VALUE with ``ast.literal_eval`` and keeps it as text when that fails, so a string
    default is written bare when that round-trips (``-p sde_name vp``) and as a Python literal otherwise.
    """
    value = ast.literal_eval(default)
    if isinstance(value, str):
        try:
            ast.literal_eval(value)
        except (ValueError, SyntaxError):
            return value
    return default


def notebook_parameters(path: Path) -> dict[str, dict[str, str]]:
    """Name -> papermill's description (``default``, ``inferred_type_name``, ``help``) of each parameter."""
    import papermill

    return {name: dict(spec) for name, spec in papermill.inspect_notebook(str(path)).items()}


def rerun_command(chapter: Chapter, parameters: dict[str, dict[str, str]]) -> str:
    """The shell command that re-executes ``chapter`` with every parameter given at its default."""
    lines = [f".venv/bin/python -m minde.notebooks {chapter.repo_path}"]
    lines += [f"    -p {name} {shlex.quote(cli_value(spec['default']))}" for name, spec in parameters.items()]
    return " \\\n".join(lines)


def rerun_box(chapter: Chapter, parameters: dict[str, dict[str, str]]) -> str:
    # from docs/chapters/ back to the repository's notebooks/
    source = f"../../{chapter.repo_path}"
    fence = "`" * 3
    return (
        ":::{admonition} Rerun this chapter\n"
        ":class: tip rerun-chapter\n\n"
        f"Source notebook: {{download}}`{chapter.path.name} <{source}>`. "
        "Building this site executed nothing. To rerun the notebook, from the repository root after "
        "`make install` (every parameter of its `parameters` cell is listed at its default: change any value, or "
        "drop the ones you keep; `python -m minde.notebooks --help` says where the executed copy goes):\n\n"
        f"{fence}bash\n{rerun_command(chapter, parameters)}\n{fence}\n"
        ":::\n"
    )


def chapter_notebook(chapter: Chapter) -> tuple[nbformat.NotebookNode, str]:
    """The notebook as the site shows it (rerun box after the title) and its title."""
    nb = nbformat.read(chapter.path, as_version=4)
    first = nb.cells[0] if nb.cells else None
    match = re.match(r"#\s+(.+)\n?", first.source) if first is not None and first.cell_type == "markdown" else None
    if match is None:
        logger.warning(f"{chapter.repo_path}: the first cell is not a markdown cell starting with a '# title' line")
        title = chapter.stem
        nb.cells.insert(0, nbformat.v4.new_markdown_cell(f"# {title}\n"))
        first, match = nb.cells[0], re.match(r".*\n", nb.cells[0].source)
    else:
        title = match.group(1).strip()
    box = rerun_box(chapter, notebook_parameters(chapter.path))
    first.source = f"{first.source[: match.end()].rstrip()}\n\n{box}\n{first.source[match.end() :].lstrip()}"
    return nb, title


# --- the figure index ------------------------------------------------------------------------------

_CELL_SPLIT = re.compile(r"(?<!\\)\|")
_NAME = re.compile(r"`([^`]+)`")
_NUMBER = re.compile(r"\b(\d\d)\b")
_DELIMITER = re.compile(r"^\s*\|(\s*:?-+:?\s*\|)+\s*$")


def _cells(row: str) -> list[str]:
    return [c.strip() for c in _CELL_SPLIT.split(row.strip())[1:-1]]


def _row(cells: Iterable[str]) -> str:
    return "| " + " | ".join(cells) + " |"


@dataclass
class FigureIndex:
    text: str  # the page's markdown, without its title
    listed: set[str]  # the figure names figures/README.md lists
    problems: list[str]  # what renders badly or points nowhere (Sphinx warnings)


def figure_index(readme: str, figures: Path, chapter_of: dict[str, Chapter]) -> FigureIndex:
    """``figures/README.md`` as the site's figure index.

    In each table row whose last column names notebooks (``01``), every backquoted figure name gets a thumbnail of
    its PNG, linked to the full image, and every notebook number becomes a link to its chapter.  Other lines are
    kept as written.  A listed figure without a PNG, and table rows cut off from their table by a blank line (they
    would show as raw text), are problems.
    """
    index = FigureIndex("", set(), [])
    out: list[str] = []
    lines = readme.splitlines()
    in_table = False
    for k, line in enumerate(lines):
        if line.startswith("# "):  # the page's title is figure_page's
            continue
        is_row = line.lstrip().startswith("|")
        if is_row and not in_table:
            in_table = k + 1 < len(lines) and bool(_DELIMITER.match(lines[k + 1]))
            if not in_table and not lines[k - 1].lstrip().startswith("|"):  # once per run of stray rows
                index.problems.append(f"figures/README.md:{k + 1}: table rows outside a table (a blank line ends a table)")
        in_table = in_table and is_row
        cells = _cells(line) if is_row else []
        numbers = _NUMBER.findall(cells[-1]) if cells else []
        if not numbers or not all(n in chapter_of for n in numbers):
            out.append(line)
            continue
        links = []
        for name in _NAME.findall(cells[0]):
            index.listed.add(name)
            png = figures / f"{name}.png"
            if not png.exists():
                index.problems.append(f"figures/README.md lists {name!r}, but figures/{name}.png does not exist")
                links.append(f"`{name}`")
                continue
            rel = Path(os.path.relpath(png, DOCS)).as_posix()  # from docs/figures.md
            links.append(f"`{name}`<br>![{name}]({rel}){{width=12rem}}")  # a sized image links to the full one
        cells[0] = "<br>".join(links) if links else cells[0]
        cells[-1] = ", ".join(f"[{n}]({chapter_of[n].docname}.ipynb)" for n in numbers)
        out.append(_row(cells))
    index.text = "\n".join(out) + "\n"
    return index


def figure_page(root: Path = ROOT) -> str:
    figures = root / "figures"
    chapter_of = {c.number: c for c in chapters(root)}
    index = figure_index((figures / "README.md").read_text(encoding="utf-8"), figures, chapter_of)
    unlisted = [f"figures/{png.name} is not listed in figures/README.md" for png in sorted(figures.glob("*.png"))
                if png.stem not in index.listed]  # fmt: skip
    for problem in index.problems + unlisted:
        logger.warning(problem)
    # the thumbnails are sized by the figure-index class (docs/_static/site.css)
    return f"# Figure index\n\n::::{{container}} figure-index\n{index.text}::::\n"


# --- the table of contents -------------------------------------------------------------------------


def toc(chapter_list: list[Chapter], reference_pages: Iterable[str]) -> str:
    def tree(caption: str, entries: Iterable[str]) -> str:
        body = "\n".join(entries)
        return f"```{{toctree}}\n:caption: {caption}\n:maxdepth: 1\n\n{body}\n```\n"

    return tree("Chapters", (c.docname for c in chapter_list)) + "\n" + tree("Reference", reference_pages)


def existing_reference_pages(docs: Path = DOCS) -> list[str]:
    generated = {FIGURE_PAGE}
    return [p for p in REFERENCE_PAGES if p in generated or (docs / f"{p}.md").exists()]


# --- docstrings ------------------------------------------------------------------------------------

_INLINE_LITERAL = re.compile(r"(``.+?``)")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def escape_bars(lines: list[str]) -> list[str]:
    """Escape the ``|`` of plain-text absolute values and norms (``|a - b|``, ``||x||``) in a docstring.

    The package's docstrings write them as in code comments; reStructuredText reads ``|a - b|`` as a
    substitution reference and turns it into a broken link.  Inline literals, literal blocks (after ``::``),
    doctest lines and table or line-block lines (starting with ``|`` or ``+``) are left alone.
    """
    out: list[str] = []
    literal_from: int | None = None  # indentation of the paragraph that opened a literal block
    for line in lines:
        stripped = line.strip()
        if literal_from is not None and stripped and _indent(line) <= literal_from:
            literal_from = None
        if literal_from is not None or not stripped or stripped.startswith((">>>", "|", "+")):
            out.append(line)
        else:
            parts = _INLINE_LITERAL.split(line)
            out.append("".join(part if k % 2 else part.replace("|", "\\|") for k, part in enumerate(parts)))
        if literal_from is None and stripped.endswith("::"):
            literal_from = _indent(line)
    return out


_PARAMETER = re.compile(r"^\s*([A-Za-z_]\w*(?:\s*,\s*[A-Za-z_]\w*)*):\s+(\S.*)$")


def parameter_lists(lines: list[str]) -> list[str]:
    """A ``Parameters`` section written ``name: description`` (this package's style) as a definition list.

    Napoleon reads ``name: text`` as ``name : type`` and would set the whole description as a type, in italics.
    A section with any line that is neither ``names: description`` nor an indented continuation is left to
    napoleon as it is.
    """
    out: list[str] = []
    k = 0
    while k < len(lines):
        line = lines[k]
        underlined = k + 1 < len(lines) and lines[k + 1].strip() and set(lines[k + 1].strip()) == {"-"}
        if line.strip() != "Parameters" or not underlined:
            out.append(line)
            k += 1
            continue
        indent, end = _indent(line), k + 2
        entries: list[tuple[str, list[str]]] = []
        while end < len(lines) and lines[end].strip():
            match = _PARAMETER.match(lines[end])
            if match and _indent(lines[end]) == indent:
                entries.append((match.group(1), [match.group(2)]))
            elif entries and _indent(lines[end]) > indent:
                entries[-1][1].append(lines[end].strip())
            else:
                entries = []
                break
            end += 1
        if not entries:
            out.append(line)
            k += 1
            continue
        pad = " " * indent
        out += [f"{pad}.. rubric:: Parameters", ""]
        for names, description in entries:
            out.append(pad + ", ".join(f"**{name.strip()}**" for name in names.split(",")))
            out += [f"{pad}    {text}" for text in description]
        out.append("")
        k = end
    return out


def _on_docstring(app: Sphinx, what: str, name: str, obj: object, options: object, lines: list[str]) -> None:
    lines[:] = escape_bars(parameter_lists(lines))


# --- writing ---------------------------------------------------------------------------------------


def write_if_changed(path: Path, text: str) -> bool:
    """Write ``text`` to ``path`` unless it already holds it (keeps mtimes, hence incremental builds)."""
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return True


def generate(docs: Path = DOCS, root: Path = ROOT) -> list[Path]:
    """Write every generated page under ``docs``; returns those that changed."""
    chapter_list = chapters(root)
    if not chapter_list:
        raise RuntimeError(f"no notebooks/NN_*.ipynb under {root}")
    changed = []
    wanted = set()
    for chapter in chapter_list:
        nb, _ = chapter_notebook(chapter)
        target = docs / CHAPTER_DIR / chapter.path.name
        wanted.add(target)
        if write_if_changed(target, nbformat.writes(nb) + "\n"):
            changed.append(target)
    for stale in (docs / CHAPTER_DIR).glob("*.ipynb"):
        if stale not in wanted:  # a notebook renamed or removed
            stale.unlink()
    pages = {
        docs / f"{FIGURE_PAGE}.md": figure_page(root),
        docs / GENERATED / "toc.md": toc(chapter_list, existing_reference_pages(docs)),
    }
    changed += [path for path, text in pages.items() if write_if_changed(path, text)]
    return changed


def _on_config_inited(app: Sphinx, config: Config) -> None:
    changed = generate(Path(app.srcdir))
    logger.info(f"minde_site: {len(changed)} generated page(s) updated")


def setup(app: Sphinx) -> dict[str, object]:
    app.connect("config-inited", _on_config_inited)
    app.connect("autodoc-process-docstring", _on_docstring, priority=400)  # before napoleon's (500)
    # MathJax on every page: chapter titles with math appear in every page's sidebar and previous/next links
    app.set_html_assets_policy("always")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
