"""Execute the numbered notebooks with papermill (``make figures``) without ever losing a committed one.

    python -m minde.notebooks notebooks/03_minde_c.ipynb -p steps 50000 -p seed 1

Each notebook runs with ``notebooks/`` as its working directory (its cached results are read from ``data/``).
Parameters given with ``-p NAME VALUE`` are parsed as Python literals when possible and passed to every
notebook named.  Where the output goes depends on them:

* **the defaults** (no ``-p``, or only values equal to the defaults): the notebook is executed in place and its
  figures and tables go to ``figures/``: the committed reproduction, which only ``make figures`` updates;
* **other parameters**: the executed notebook goes to a run folder of its own, ``runs/<notebook>-<params>/``
  (ignored by git; ``$MINDE_RUNS`` moves ``runs/``), and its figures and tables to ``runs/<notebook>-<params>/figures/``.
  The kernel makes the same decision by itself (:func:`kernel_run_folder`, used by ``minde.plotting.figures_dir``),
  so plain papermill with other parameters does not touch ``figures/`` either.  ``$MINDE_FIGURES``, when set, wins.

Every notebook is executed to a temporary file that replaces its destination only once the whole notebook has run:
a failing cell leaves the destination as it was, and the command prints one line naming the cell and its error
and exits with status 1.  An unknown parameter name (or a value of the wrong type) is an error, with the
notebook's parameters and close matches, before anything runs (exit status 2).  Execution timestamps and
durations are not written, and printed output is merged into one block per cell, so an unchanged checkout stays
clean after ``make figures``.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import hashlib
import os
import re
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any

__all__ = [
    "REPO", "parse_parameters", "notebook_parameters", "overrides", "run_folder", "kernel_overrides",
    "kernel_run_folder", "pin_volatile", "execute", "NotebookError", "ParameterError", "main", "check", "check_range",
    "stated_tolerance",
]  # fmt: skip

#: The repository checkout this package lives in (``notebooks/``, ``figures/`` and ``runs/`` are found from it).
REPO = Path(__file__).resolve().parents[2]
#: The comment line that starts papermill's injected-parameters cell (its default ``comment="Parameters"``).
INJECTED_MARKER = "# Parameters"
_SAFE = re.compile(r"[^A-Za-z0-9._+=-]+")
_MAX_SLUG = 60


class NotebookError(Exception):
    """A notebook could not be run as asked; the message is one line, for the command line."""


class ParameterError(NotebookError):
    """A bad command line: an unknown notebook, parameter name or value type (exit status 2)."""


# --- parameters ---------------------------------------------------------------------------------------------


def parse_parameters(source: str) -> dict[str, Any]:
    """The assignments ``name = value`` / ``name: type = value`` at the top level of a cell's source, in order, as
    Python values (``ast.literal_eval``; a value that is not a literal is kept as its source text)."""
    out: dict[str, Any] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            targets, value = [node.target], node.value
        elif isinstance(node, ast.Assign) and all(isinstance(t, ast.Name) for t in node.targets):
            targets, value = node.targets, node.value
        else:
            continue
        try:
            parsed = ast.literal_eval(value)
        except ValueError:
            parsed = ast.get_source_segment(source, value)
        for t in targets:
            out[t.id] = parsed
    return out


def notebook_parameters(path: str | Path) -> dict[str, Any]:
    """The defaults of a notebook's ``parameters`` cell (the first code cell tagged ``parameters``); empty if none."""
    import nbformat

    nb = nbformat.read(str(path), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code" and "parameters" in cell.metadata.get("tags", []):
            return parse_parameters(cell.source)
    return {}


def overrides(params: Mapping[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """The entries of ``params`` that are not a notebook parameter or differ from its default."""
    return {k: v for k, v in params.items() if k not in defaults or defaults[k] != v}


def _close_matches(unknown: Sequence[str], known: Sequence[str]) -> str:
    """``'step' (did you mean steps?)`` for each unknown name, comma-separated."""
    parts = []
    for name in unknown:
        near = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
        parts.append(f"{name!r}" + (f" (did you mean {' or '.join(near)}?)" if near else ""))
    return ", ".join(parts)


def _check_names(notebook: str, params: Mapping[str, Any], defaults: Mapping[str, Any]) -> None:
    """Raise NotebookError when ``params`` has a name that is not one of the notebook's parameters."""
    unknown = [k for k in params if k not in defaults]
    if unknown:
        raise ParameterError(f"{notebook} has no parameter {_close_matches(unknown, list(defaults))}; "
                            f"its parameters: {', '.join(defaults)}")  # fmt: skip


def _check_types(notebook: str, params: Mapping[str, Any], defaults: Mapping[str, Any]) -> None:
    """Raise NotebookError when a value's type does not fit its default's (an int is accepted for a float)."""
    for name, value in params.items():
        default = defaults[name]
        if default is None:
            continue
        expected = float if type(default) is float else type(default)
        ok = isinstance(value, expected) and (expected is bool or not isinstance(value, bool))
        if expected is float and type(value) is int:
            ok = True
        if not ok:
            raise ParameterError(f"{notebook}: parameter {name} expects {expected.__name__} (default {default!r}), "
                                f"got {value!r}")  # fmt: skip


# --- where a run goes -------------------------------------------------------------------------------------------


def _runs_root() -> Path:
    """Where run folders go: $MINDE_RUNS when set, else ``runs/`` of the repository checkout, or ``./runs`` when the
    package is not used from one."""
    env = os.environ.get("MINDE_RUNS")
    if env:
        return Path(env)
    return REPO / "runs" if (REPO / "notebooks").is_dir() else Path("runs")


def _slug(value: Any) -> str:
    """A value as folder-name text: ``['a', 'b']`` -> ``a_b``, ``{'sde': 've'}`` -> ``sde_ve``."""
    return _SAFE.sub("", re.sub(r"[,:\s]+", "_", str(value))).strip("_")


def run_folder(notebook: str | Path, params: Mapping[str, Any]) -> Path:
    """The folder of a run of ``notebook`` (a path or a stem such as ``03_minde_c``) with parameters ``params``
    (those differing from the defaults): ``runs/<stem>-<name=value-...>/``, names sorted.  A value other than a
    plain number or word (a list, a dict, text with spaces...), or a name over 60 characters, is shortened and
    the name ends with a hash of the full parameters, so that different parameters never share a folder."""
    stem = Path(str(notebook)).stem
    items = sorted(params.items())
    slug = "-".join(f"{k}={_slug(v)}" for k, v in items)
    if any(_slug(v) != str(v) for _, v in items) or len(slug) > _MAX_SLUG:
        digest = hashlib.sha1(repr(items).encode()).hexdigest()[:8]
        slug = f"{slug[:_MAX_SLUG - 9].rstrip('-_')}-{digest}"
    return _runs_root() / f"{stem}-{slug}"


def kernel_overrides() -> dict[str, Any]:
    """Inside a notebook kernel that papermill started with parameters: the injected parameters that differ from
    the notebook's defaults (``{}`` outside IPython, without injected parameters, or with only the defaults).

    The kernel's input history holds papermill's injected cell (it starts with ``# Parameters``) and, just before
    it, the notebook's own ``parameters`` cell, whose assignments are the defaults.  Raises ``ValueError`` for an
    injected name that the parameters cell does not define (a typo such as ``step`` for ``steps``), which plain
    papermill only warns about."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency of the notebooks
        return {}
    shell = get_ipython()
    history = list(getattr(getattr(shell, "history_manager", None), "input_hist_raw", []) or [])
    injected = [i for i, src in enumerate(history) if src.lstrip().startswith(INJECTED_MARKER)]
    if not injected:
        return {}
    i = injected[-1]
    defaults = parse_parameters(history[i - 1]) if i > 0 else {}
    given = parse_parameters(history[i])
    unknown = [k for k in given if k not in defaults]
    if unknown:
        raise ValueError(f"unknown notebook parameter {_close_matches(unknown, list(defaults))}; "
                         f"the parameters are: {', '.join(defaults)}")  # fmt: skip
    return overrides(given, defaults)


@cache
def _announce(folder: Path) -> None:
    """Print once per kernel where this run's figures go."""
    print(f"parameters differ from the notebook's defaults: figures and tables of this run go to {_display(folder)}/")


def kernel_run_folder(figure: str) -> Path | None:
    """The run folder of the notebook that saves ``figure`` (a figure or table name starting with the notebook's
    number, e.g. ``05_benchmark_table``) when its kernel runs with parameters other than the defaults; None with
    the defaults (or outside a notebook).  The notebook is ``notebooks/<NN>_*.ipynb`` of the checkout."""
    params = kernel_overrides()
    if not params:
        return None
    number = re.match(r"\d+", figure)
    found = sorted((REPO / "notebooks").glob(f"{number.group()}_*.ipynb")) if number else []
    folder = run_folder(found[0].stem if found else (number.group() if number else "notebook"), params)
    _announce(folder / "figures")
    return folder


# --- checked prose: the numbers a notebook's text states ------------------------------------------------------


def stated_tolerance(stated: str) -> float:
    """Half a unit in the last digit of a number as the text writes it: ``"0.253"`` -> 0.0005, ``"20"`` -> 0.5,
    ``"1.5e-3"`` -> 5e-5.  A value within it rounds to the stated figure."""
    try:
        exponent = Decimal(stated.strip()).as_tuple().exponent
    except InvalidOperation:
        raise ValueError(f"not a number as text: {stated!r}") from None
    if not isinstance(exponent, int):
        raise ValueError(f"not a finite number: {stated!r}")
    return 0.5 * 10.0**exponent


def _other_parameters() -> bool:
    """True inside a notebook kernel run with parameters other than its defaults: the prose describes the defaults,
    so its numbers are not checked then."""
    try:
        return bool(kernel_overrides())
    except ValueError:  # an unknown injected parameter: reported where the figures are saved
        return True


#: ``MINDE_CHECKS=report`` (for revising a notebook's prose after its data changed): a mismatch is printed as a line
#: starting ``MISMATCH`` and execution goes on, so one run lists every sentence to revise.  Never set in CI.
CHECKS_ENV = "MINDE_CHECKS"


def _mismatch(message: str) -> None:
    if os.environ.get(CHECKS_ENV) == "report":
        print(f"MISMATCH {message}")
        return
    raise AssertionError(f"{message}; update the prose or find what changed")


def check(value: float, stated: str | float, what: str, tol: float | None = None) -> float:
    """Assert that a number the notebook's prose states is the one its code computed, and print the comparison.

    ``stated`` is the number as the text writes it, e.g. ``"0.253"``: the tolerance is then its stated precision
    (half a unit in its last digit, :func:`stated_tolerance`), so the check fails as soon as a rerun would change
    the figure in the text.  A float ``stated`` needs an explicit ``tol`` (for "about" statements, give the
    precision the sentence claims).  Returns ``value``.  Raises ``AssertionError`` naming ``what`` on a mismatch,
    which fails the notebook's execution and nbval.  In a notebook run with parameters other than its defaults the
    prose does not describe the run: nothing is asserted, and the value is printed as unchecked."""
    value = float(value)
    if _other_parameters():
        print(f"not checked (parameters differ from the defaults the text describes): {what} = {value:.6g}")
        return value
    if tol is None:
        if not isinstance(stated, str):
            raise ValueError(f"{what}: give the stated number as text (its precision sets the tolerance) or pass tol")
        tol = stated_tolerance(stated)
    target = float(stated)
    if not abs(value - target) <= tol:  # also fails for NaN
        _mismatch(f"{what}: the code computes {value:.6g}, the text states {stated} (tolerance ±{tol:g})")
        return value
    print(f"checked: {what} = {value:.6g} (text: {stated}, ±{tol:g})")
    return value


def check_range(value: float, what: str, low: float | None = None, high: float | None = None) -> float:
    """Assert ``low <= value <= high`` (either bound may be omitted) for a claim the prose states as a bound
    ("below 0.01 nats", "at least ten times"), print it, and return ``value``; ``AssertionError`` otherwise
    (nothing is asserted in a run with other parameters, as for :func:`check`)."""
    value = float(value)
    if low is None and high is None:
        raise ValueError(f"{what}: give low, high or both")
    if _other_parameters():
        print(f"not checked (parameters differ from the defaults the text describes): {what} = {value:.6g}")
        return value
    ok = (low is None or value >= low) and (high is None or value <= high)
    bounds = " and ".join(b for b in (f">= {low:g}" if low is not None else "", f"<= {high:g}" if high is not None else "") if b)
    if not ok:  # also fails for NaN
        _mismatch(f"{what}: the code computes {value:.6g}, the text states {bounds}")
        return value
    print(f"checked: {what} = {value:.6g} ({bounds})")
    return value


# --- execution ----------------------------------------------------------------------------------------------------


def _display(path: str | Path) -> str:
    """A path relative to the repository when inside it (posix), else as given."""
    p = Path(path).resolve()
    try:
        return p.relative_to(REPO).as_posix()
    except ValueError:
        return str(path)


def _coalesce_streams(outputs: list) -> list:
    """Consecutive stdout (or stderr) outputs merged into one: the kernel flushes a cell's prints in chunks whose
    boundaries depend on timing, so the same text would otherwise be split differently from run to run."""
    merged: list = []
    for out in outputs:
        prev = merged[-1] if merged else None
        if out.get("output_type") == "stream" and prev is not None and prev.get("output_type") == "stream" \
                and prev.get("name") == out.get("name"):  # fmt: skip
            prev["text"] = "".join(prev["text"]) + "".join(out["text"])
        else:
            merged.append(out)
    return merged


def pin_volatile(nb: Any, input_path: str | Path, output_path: str | Path) -> Any:
    """Drop what changes from one execution to the next (in place, and returned): papermill's start/end times and
    durations, per notebook and per cell, and the kernel's per-cell execution timestamps; merge the chunks of each
    cell's printed output (:func:`_coalesce_streams`); record the input and output paths relative to the repository
    (the output is executed to a temporary file first)."""
    meta = nb.metadata.get("papermill")
    if meta is not None:
        for key in ("start_time", "end_time", "duration"):
            meta.pop(key, None)
        meta["input_path"], meta["output_path"] = _display(input_path), _display(output_path)
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            cell.outputs = _coalesce_streams(cell.outputs)
    return nb


@cache
def _kernel_manager_class() -> type:
    """An ``AsyncKernelManager`` that does not interrupt the kernel it shuts down.  nbclient shuts the kernel down
    when the last cell has run, so it is idle; the SIGINT that jupyter_client sends first then only makes ipykernel
    log ``KeyboardInterrupt caught in kernel``."""
    from jupyter_client.manager import AsyncKernelManager

    class QuietShutdownKernelManager(AsyncKernelManager):
        async def _async_interrupt_kernel(self) -> None:
            if not self.shutting_down:
                await super()._async_interrupt_kernel()

    return QuietShutdownKernelManager


def _engine_options() -> dict[str, Any]:
    """nbclient options: no per-cell timing metadata, the quiet kernel manager, and CurveZMQ transport encryption
    when pyzmq supports it and the kernelspec declares it (ipykernel warns about unencrypted TCP otherwise)."""
    import zmq
    from traitlets.config import Config

    config = Config({"KernelManager": {"transport_encryption": "auto"}}) if zmq.has("curve") else Config()
    return {"record_timing": False, "kernel_manager_class": _kernel_manager_class(), "config": config}


def _first_line(text: str, width: int = 48) -> str:
    """The first line of ``text`` that is not blank or a comment, shortened to ``width`` characters."""
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            line = line.strip()
            return line if len(line) <= width else line[: width - 3] + "..."
    return ""


def _describe_failure(executed: Path, err: Any) -> str:
    """``code cell 3 of 8 ('if rerun:') failed: FileNotFoundError: ...``, numbering the code cells of the notebook
    as written (papermill's injected-parameters cell is not counted)."""
    import nbformat

    try:
        cells = nbformat.read(str(executed), as_version=4).cells
    except Exception:  # the temporary file may be missing or partial
        cells = []
    cells = [c for c in cells if "papermill-error-cell-tag" not in c.metadata.get("tags", [])]  # the error banners it adds
    code = [i for i, c in enumerate(cells) if c.cell_type == "code" and "injected-parameters" not in c.metadata.get("tags", [])]
    where = f"cell {err.exec_count}"
    if err.cell_index in code:
        where = f"code cell {code.index(err.cell_index) + 1} of {len(code)} ({_first_line(cells[err.cell_index].source)!r})"
    message = next((ln for ln in str(err.evalue).splitlines() if ln.strip()), "")
    return f"{where} failed: {err.ename}: {message}" if message else f"{where} failed: {err.ename}"


def execute(notebook: str | Path, output: str | Path, parameters: Mapping[str, Any] | None = None) -> Any:
    """Execute ``notebook`` with papermill (working directory: its folder) into ``output``, through a temporary file
    in the output's folder that replaces ``output`` only on success.  Returns the executed notebook.  Raises
    NotebookError, with a one-line message naming the failed cell and its error, when a cell fails (``output`` is
    then left as it was)."""
    import nbformat
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    src, out = Path(notebook), Path(output)
    existed, created = out.exists(), not out.parent.exists()
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.stem}.tmp-", suffix=".ipynb", dir=out.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        nb = pm.execute_notebook(str(src), str(tmp), parameters=dict(parameters or {}), cwd=str(src.parent),
                                 kernel_name="python3", progress_bar=False, **_engine_options())  # fmt: skip
        nbformat.write(pin_volatile(nb, src, out), str(tmp))
        os.replace(tmp, out)
        return nb
    except PapermillExecutionError as err:
        kept = f"{_display(out)} left unchanged" if existed else "nothing written"
        raise NotebookError(f"{_display(src)}: {_describe_failure(tmp, err)}; {kept}") from None
    finally:
        tmp.unlink(missing_ok=True)
        if created and not any(out.parent.iterdir()):
            out.parent.rmdir()  # a run folder made for a run that failed


def _literal(text: str) -> object:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are NotebookError (one line, exit status 2) instead of usage + exit."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise ParameterError(message)


def _plan(paths: Sequence[Path], params: Mapping[str, Any], output_dir: Path | None) -> list[tuple[Path, Path, dict]]:
    """For each notebook: (notebook, destination, parameters to inject); validates everything before any run."""
    plan = []
    for nb in paths:
        if not nb.is_file():
            raise ParameterError(f"no such notebook: {nb}")
        defaults = notebook_parameters(nb)
        _check_names(nb.stem, params, defaults)
        _check_types(nb.stem, params, defaults)
        changed = overrides(params, defaults)
        if output_dir is not None:
            dest = output_dir / nb.name
        else:
            dest = run_folder(nb, changed) / nb.name if changed else nb
        plan.append((nb, dest, changed))
    return plan


def main(argv: list[str] | None = None) -> int:
    """Command line; returns the exit status (0 done, 1 a notebook failed, 2 a bad command line)."""
    parser = _Parser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"))
    parser.add_argument("-o", "--output-dir", type=Path, default=None,
                        help="write the executed notebooks here (default: in place with the defaults, else in runs/)")
    try:
        args = parser.parse_args(argv)
        params = {name: _literal(value) for name, value in args.parameter}
        plan = _plan(args.notebooks, params, args.output_dir)
        for nb, dest, changed in plan:
            start = time.perf_counter()
            print(f"executing {_display(nb)} {changed or ''}", flush=True)
            execute(nb, dest, changed)
            where = f" (figures in {_display(run_folder(nb, changed) / 'figures')}/)" if changed else ""
            print(f"  done in {time.perf_counter() - start:.0f} s -> {_display(dest)}{where}", flush=True)
    except ParameterError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except NotebookError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted; the notebook being executed was left unchanged", file=sys.stderr)
        return 130
    except Exception as err:  # a kernel that died, an unreadable notebook...: one line, no traceback
        print(f"error: {type(err).__name__}: {str(err).strip().splitlines()[0] if str(err).strip() else ''}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
