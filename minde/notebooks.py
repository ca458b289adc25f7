"""Execute the numbered notebooks with papermill, in place (``make figures``).

    python -m minde.notebooks notebooks/03_minde_c.ipynb -p steps 50000 -p variant j

Each notebook runs with ``notebooks/`` as its working directory, so its figures land in ``figures/``
and its cached results are read from ``data/``.  Parameters given with ``-p NAME VALUE`` are parsed as
Python literals when possible and passed to every notebook named.
"""

from __future__ import annotations

import argparse
import ast
import sys
import time
from pathlib import Path


def _literal(text: str) -> object:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def main(argv: list[str] | None = None) -> int:
    import papermill as pm

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"))
    parser.add_argument("-o", "--output-dir", type=Path, default=None, help="write executed copies here instead of in place")
    args = parser.parse_args(argv)
    params = {name: _literal(value) for name, value in args.parameter}
    for nb in args.notebooks:
        if not nb.exists():
            parser.error(f"no such notebook: {nb}")
        out = (args.output_dir / nb.name) if args.output_dir else nb
        out.parent.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        print(f"executing {nb} {params or ''}", flush=True)
        pm.execute_notebook(str(nb), str(out), parameters=params, cwd=str(nb.parent), kernel_name="python3", progress_bar=False)
        print(f"  done in {time.perf_counter() - start:.0f} s -> {out}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
