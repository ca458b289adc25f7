"""The deprecated import paths of the flat layout (before minde/benchmark/, minde/experiments/, minde/plotting/): each
still gives the same objects, and says where they moved with one DeprecationWarning."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

#: old import -> (the statement, the new home of the name it binds)
ALIASES = {
    "minde.tasks": ("from minde.tasks import get_task, list_tasks", "minde.benchmark.tasks"),
    "minde.baselines": ("from minde.baselines import InfoNCE, BASELINES", "minde.benchmark.baselines.variational"),
    "minde.estimators": ("from minde.estimators import minde_c, Estimate", "minde.forms"),
    "minde.results": ("from minde.results import intervals, per_task", "minde.intervals"),
    "minde.consistency": ("from minde.consistency import ratio_table, ROWS", "minde.experiments.consistency"),
    "minde.notebooks": ("from minde.notebooks import check, check_range", "minde.experiments.notebooks"),
    "minde.report": ("from minde.report import README_EXPERIMENTS", "minde.experiments.report"),
    "minde.experiments": ("from minde.experiments import make_grid, run_grid", "minde.experiments.grid"),
    "minde.plotting": ("from minde.plotting import plot_growing_mi", "minde.plotting.benchmark"),
    "minde.estimator": ("from minde.estimator import fit_tracked", "minde.diagnostics"),
}

PROBE = textwrap.dedent('''
    import json, sys, warnings
    out = {}
    for old, (stmt, home) in json.loads(sys.argv[1]).items():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ns = {}
            exec(stmt, ns)
        first = stmt.split(" import ")[1].split(",")[0].strip()
        obj = ns[first]
        out[old] = {"messages": [str(w.message) for w in caught if issubclass(w.category, DeprecationWarning)],
                    "module": getattr(obj, "__module__", None) if callable(obj) else home}
    print(json.dumps(out))
''')


@pytest.fixture(scope="module")
def probed():
    """Every alias imported once in a fresh interpreter (an alias warns when it is first imported)."""
    aliases = {k: list(v) for k, v in ALIASES.items()}
    res = subprocess.run([sys.executable, "-c", PROBE, json.dumps(aliases)], cwd=REPO, capture_output=True, text=True,
                         timeout=300, check=True)  # fmt: skip
    return json.loads(res.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("old", sorted(ALIASES))
def test_alias_warns_once_and_gives_the_moved_object(probed, old):
    stmt, home = ALIASES[old]
    messages = probed[old]["messages"]
    assert len(messages) == 1, messages  # at most once, however many names the statement imports
    assert all("minde." in m and "moved" in m or "deprecated" in m for m in messages)
    assert probed[old]["module"] == home


@pytest.mark.parametrize("command", ["minde.experiments", "minde.consistency", "minde.notebooks", "minde.report"])
def test_documented_commands_run_without_a_warning(command):
    res = subprocess.run([sys.executable, "-W", "error::DeprecationWarning", "-m", command, "--help"], cwd=REPO,
                         capture_output=True, text=True, timeout=300)  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("usage:") and "Deprecat" not in res.stderr
