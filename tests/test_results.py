import pandas as pd
import pytest

from minde.results import per_task, success_counts


def test_success_counts_use_the_mean_over_seeds():
    df = pd.DataFrame(
        {
            "task": ["a", "a", "b", "b", "a", "b"],
            "estimator": ["E", "E", "E", "E", "F", "F"],
            "seed": [0, 1, 0, 1, 0, 0],
            # E on task a: seeds at GT-0.15 and GT+0.1 -> mean error -0.025 (solved); on b: +0.2 (not solved)
            "estimate": [0.85, 1.1, 2.2, 2.2, 1.0, 2.05],
            "gt": [1.0, 1.0, 2.0, 2.0, 1.0, 2.0],
        }
    )
    counts = success_counts(df).set_index("estimator")
    assert counts.loc["E", "solved"] == 1 and counts.loc["F", "solved"] == 2
    assert counts.loc["E", "mean_abs_error"] == pytest.approx((0.025 + 0.2) / 2)
    t = per_task(df).set_index(["task", "estimator"])
    assert t.loc[("a", "E"), "seeds"] == 2 and t.loc[("a", "E"), "error"] == pytest.approx(-0.025)
