import numpy as np
import pandas as pd
import pytest

from minde.experiments.results import per_task, success_counts


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


def _summary(estimators: dict[str, list[float]], tasks: list[str], gts: list[float]) -> pd.DataFrame:
    rows = []
    for est, values in estimators.items():
        for i, (task, gt) in enumerate(zip(tasks, gts, strict=True)):
            for seed, v in enumerate(values[i] if isinstance(values[i], list) else [values[i]]):
                rows.append({"task": task, "estimator": est, "seed": seed, "estimate": v, "gt": gt, "protocol": "smoke"})
    return pd.DataFrame(rows)


def test_combine_keeps_protocols_apart_and_coverage_counts_seeds():
    from minde.experiments.results import combine, coverage

    a = _summary({"CCA": [[0.4, 0.5, 0.45], [1.0, 1.1, 1.0]]}, ["1v1-normal-0.75", "multinormal-dense-2-2-0.5"], [0.41, 0.29])
    b = _summary({"CCA": [0.3], "MINDE-C": [0.41]}, ["1v1-normal-0.75"], [0.41])
    df = combine({"first": a, "rerun": b})
    assert list(dict.fromkeys(df["estimator"])) == ["CCA", "CCA [rerun]", "MINDE-C"]
    assert set(df[df["experiment"] == "rerun"]["estimator"]) == {"CCA [rerun]", "MINDE-C"}
    cov = coverage(df).set_index("estimator")
    assert cov.loc["CCA", "tasks"] == 2 and cov.loc["CCA", "seeds"] == "0-2" and cov.loc["CCA", "results"] == 6
    assert cov.loc["CCA [rerun]", "experiment"] == "rerun" and cov.loc["MINDE-C", "seeds"] == "0"


def test_coverage_of_an_ensemble_next_to_its_members():
    from minde.experiments.results import average_forms, coverage

    df = _summary({"A": [[0.4, 0.5]], "B": [[0.45, 0.35]]}, ["1v1-normal-0.75"], [0.41])
    both = pd.concat([df, average_forms(df, ["A", "B"], name="AB")], ignore_index=True)
    cov = coverage(both).set_index("estimator")
    assert cov.loc["A", "protocol"] == "smoke" and cov.loc["AB", "protocol"] == ""
    assert cov.loc["AB", "seeds"] == "0,1" and cov.loc["AB", "results"] == 2


def test_benchmark_table_has_all_40_tasks_in_order_with_gt_and_blanks():
    from minde.benchmark.tasks import get_task, list_tasks
    from minde.experiments.results import benchmark_table

    df = _summary({"E": [[0.4, 0.5], 1.0]}, ["multinormal-dense-3-3-0.5", "1v1-normal-0.75"], [0.4133, 0.4133])
    table = benchmark_table(df)
    assert list(table.index) == list_tasks() and list(table.columns) == ["dims", "GT", "E"]
    assert table.loc["multinormal-dense-3-3-0.5", "E"] == pytest.approx(0.45)
    assert table.loc["multinormal-dense-3-3-0.5", "dims"] == "3x3"
    assert table.loc["1v1-additive-0.1", "GT"] == pytest.approx(get_task("1v1-additive-0.1").mutual_information)
    assert table["E"].notna().sum() == 2


def test_family_counts_and_published_comparison():
    from minde.experiments.results import PUBLISHED_SUCCESS, PUBLISHED_SUCCESS_5K, compare_published, family_counts

    tasks = ["1v1-normal-0.75", "half_cube-1v1-normal-0.75", "multinormal-sparse-3-3-2-2.0",
             "spiral-multinormal-sparse-3-3-2-2.0"]
    gts = [0.4133, 0.4133, 1.0217, 1.0217]
    df = _summary({"CCA": [0.41, 0.6, 1.0, 0.3], "MINDE-C": [0.4, 0.45, None, None]}, tasks, gts).dropna()
    base = family_counts(df, "base").set_index(["base", "estimator"])
    assert tuple(base.loc[("bivariate-normal", "CCA"), ["solved", "covered", "total"]]) == (1, 2, 6)
    assert tuple(base.loc[("multinormal-sparse", "MINDE-C"), ["solved", "covered"]]) == (0, 0)
    tr = family_counts(df, "transform").set_index(["transform", "estimator"])
    assert tuple(tr.loc[("spiral", "CCA"), ["solved", "covered", "total"]]) == (0, 1, 3)
    assert tuple(tr.loc[("none", "CCA"), ["solved", "covered"]]) == (2, 2)
    with pytest.raises(ValueError):
        family_counts(df, "dims")
    cmp = compare_published(df).set_index("estimator")
    assert cmp.loc["CCA", "solved / covered"] == "2/4" and cmp.loc["MINDE-C", "solved / covered"] == "2/2"
    assert cmp.loc["CCA", "bmi_5k"] == PUBLISHED_SUCCESS_5K["CCA"]
    assert cmp.loc["MINDE-C", "mmg_tally"] == PUBLISHED_SUCCESS["MINDE-C"] and pd.isna(cmp.loc["CCA", "mmg_tally"])


def test_split_settings_and_task_family():
    from minde.benchmark.tasks import figure1_tasks
    from minde.experiments.results import split_settings, with_task_family

    df = pd.DataFrame({"task": ["1v1-normal-0.75"] * 3, "estimator": ["MINDE-C", "MINDE-C(sigma)+sde=ve", "CCA+steps=5"]})
    s = split_settings(df)
    assert list(s["form"]) == ["MINDE-C", "MINDE-C(sigma)", "CCA"]
    assert list(s["setting"]) == ["default", "sde=ve", "steps=5"]
    spiral = figure1_tasks(mi_values=(2.0,), transforms=("spiral",))["spiral"][0]
    f = with_task_family(pd.DataFrame({"task": ["1v1-normal-0.75", spiral.id]}))
    assert list(f["transform"]) == ["none", "spiral"] and list(f["dims"]) == ["1x1", "3x3"]
    assert f["strength"].isna().iloc[0] and f["strength"].iloc[1] == pytest.approx(spiral.params["strength"])


def test_tracking_limit_finds_the_first_level_outside_the_band():
    from minde.experiments.results import tracking_limit

    gt = [0.1, 1.0, 2.0, 4.0, 6.0]
    levels = pd.DataFrame({
        "transform": "none", "gt": gt * 3, "estimator": ["good"] * 5 + ["saturates"] * 5 + ["bad"] * 5,
        # band: max(0.1, 10%) -> 0.1, 0.1, 0.2, 0.4, 0.6
        "mean": [0.15, 1.09, 1.85, 4.35, 5.5] + [0.1, 1.0, 1.7, 2.5, 2.6] + [0.3, 1.0, 2.0, 4.0, 6.0],
    })  # fmt: skip
    lim = tracking_limit(levels).set_index("estimator")
    assert lim.loc["good", "tracked_up_to"] == 6.0 and np.isnan(lim.loc["good", "first_miss"])
    assert lim.loc["saturates", "tracked_up_to"] == 1.0 and lim.loc["saturates", "first_miss"] == 2.0
    assert lim.loc["saturates", "miss_error"] == pytest.approx(-0.3)
    assert np.isnan(lim.loc["bad", "tracked_up_to"]) and lim.loc["bad", "first_miss"] == 0.1


def test_sigma_sweeps_are_read_from_the_cells(tmp_path):
    from minde.experiments import grid as ex
    from minde.experiments.results import load_sigma_sweeps

    cells = ex.make_grid(["1v1-normal-0.75"], ["MINDE-J", "CCA"], [0], "smoke")
    ex.run_grid(cells, tmp_path, progress=False)
    sw = load_sigma_sweeps(tmp_path)
    assert len(sw) == len(ex.SIGMA_SWEEP) and set(sw["form"]) == {"MINDE-J(sigma)"} and set(sw["setting"]) == {"default"}
    payload = ex.load_results(tmp_path)
    j = next(p for p in payload if p["estimator"] == "MINDE-J")
    at_one = sw.loc[sw["sigma"] == 1.0, "estimate"].item()
    assert at_one == j["estimates"]["MINDE-J(sigma)"]["estimate"]
    assert sw["error"].to_numpy() == pytest.approx(sw["estimate"].to_numpy() - j["gt"])


def test_evaluation_variants_put_every_evaluation_of_one_network_side_by_side(tmp_path):
    """The runner's other evaluations of each network (small-t rules, uniform t, EMA alternatives) in one table;
    small_t_rules is its small-t part."""
    from minde.experiments import grid as ex
    from minde.experiments.results import evaluation_variants, small_t_rules

    cells = ex.make_grid(["1v1-normal-0.75"], ["MINDE-C", "CCA"], [0], "smoke", {"ema_ablation": ("raw",)})
    ex.run_grid(cells, tmp_path / "x", progress=False)
    v = evaluation_variants(tmp_path / "x")
    p = next(q for q in ex.load_results(tmp_path / "x") if q["estimator"].startswith("MINDE-C"))
    assert len(v) == 2 and set(v["estimator"]) == set(p["estimates"])  # two forms, the baseline left out
    row = v.set_index("estimator").loc[next(iter(p["estimates"]))]
    name = row.name
    assert row["estimate"] == p["estimates"][name]["estimate"]
    assert row["uniform_t"] == p["estimates_uniform_t"][name]["estimate"]
    assert row["small_t=exact"] == p["estimates_small_t"]["exact"][name]["estimate"]
    assert row["network=raw"] == p["estimates_networks"]["raw"][name]["estimate"]
    rules = small_t_rules(tmp_path / "x")
    assert list(rules.columns) == ["task", "estimator", "seed", "gt", "hold", "hold_stderr", "exact", "exact_stderr",
                                   "authors", "authors_stderr"]  # fmt: skip
    assert rules["hold"].tolist() == v["estimate"].tolist() and rules["exact"].tolist() == v["small_t=exact"].tolist()


def test_intervals_use_mc_error_for_one_seed_and_seed_spread_for_several():
    from scipy import stats

    from minde.experiments.results import calibration, intervals

    df = pd.DataFrame({
        "task": ["a", "b", "b", "b", "c"], "estimator": ["E"] * 4 + ["CCA"], "seed": [0, 0, 1, 2, 0],
        "estimate": [1.05, 2.0, 2.2, 2.4, 0.5], "gt": [1.0, 2.5, 2.5, 2.5, 0.5], "stderr": [0.02, 0.01, 0.01, 0.01, np.nan],
    })  # fmt: skip
    iv = intervals(df, 0.95).set_index(["task", "estimator"])
    z = stats.norm.ppf(0.975)
    a = iv.loc[("a", "E")]
    assert a["kind"] == "mc" and a["half_width"] == pytest.approx(z * 0.02) and not a["covers"]  # 1.05 +- 0.039
    b = iv.loc[("b", "E")]
    assert b["kind"] == "seeds" and b["half_width"] == pytest.approx(stats.t.ppf(0.975, 2) * 0.2 / np.sqrt(3))
    assert b["covers"]  # 2.2 +- 0.497 contains 2.5
    assert np.isnan(iv.loc[("c", "CCA"), "half_width"]) and not iv.loc[("c", "CCA"), "covers"]
    cal = calibration(df, 0.95).set_index("estimator")
    assert cal.loc["E", "tasks"] == 2 and cal.loc["E", "covered"] == 1 and cal.loc["E", "coverage"] == 0.5
    assert "CCA" not in cal.index  # no uncertainty, no calibration
    with pytest.raises(ValueError, match="level"):
        intervals(df, 1.5)


def test_form_gap_widens_minde_intervals_by_the_disagreement_of_the_two_forms():
    from scipy import stats

    from minde.experiments.results import calibration, intervals

    df = pd.DataFrame({
        "task": ["a", "a", "a"], "estimator": ["MINDE-C", "MINDE-C(sigma)", "CCA"], "seed": [0, 0, 0],
        "estimate": [1.2, 0.9, 1.1], "gt": [1.0, 1.0, 1.0], "stderr": [0.01, 0.01, np.nan],
    })  # fmt: skip
    plain = intervals(df).set_index("estimator")
    gap = intervals(df, form_gap=True).set_index("estimator")
    mc = stats.norm.ppf(0.975) * 0.01
    assert plain.loc["MINDE-C", "half_width"] == pytest.approx(mc) and not plain.loc["MINDE-C", "covers"]
    for form in ("MINDE-C", "MINDE-C(sigma)"):
        assert gap.loc[form, "half_width"] == pytest.approx(np.hypot(mc, 0.3))
        assert gap.loc[form, "kind"] == "mc+gap" and gap.loc[form, "covers"]  # 1.2 +- 0.30 and 0.9 +- 0.30 contain 1
    assert np.isnan(gap.loc["CCA", "half_width"])  # no partner form, no uncertainty: unchanged
    cal = calibration(df, form_gap=True).set_index("estimator")
    assert cal.loc["MINDE-C", "covered"] == 1 and cal.loc["MINDE-C", "kind"] == "mc+gap"


def test_load_experiment_rebuilds_the_summary_and_reports_an_empty_folder(tmp_path, capsys):
    from minde.experiments import grid as ex
    from minde.experiments.results import load_experiment

    (tmp_path / "empty").mkdir()
    assert load_experiment(tmp_path / "empty") is None
    assert "no results under" in capsys.readouterr().out
    root = tmp_path / "exp"
    ex.run_grid(ex.make_grid(["1v1-normal-0.75"], ["CCA"], [0, 1], "smoke"), root, progress=False)
    assert not (root / "summary.csv").exists()  # run_grid writes only the JSON files
    df = load_experiment(root)
    assert sorted(df["seed"]) == [0, 1] and set(df["estimator"]) == {"CCA"}


def test_has_results_needs_a_finished_cell(tmp_path):
    from minde.experiments.results import has_results

    assert not has_results("missing", results_dir=tmp_path)
    started = tmp_path / "started" / "1v1-normal-0.75" / "MINDE-C"
    started.mkdir(parents=True)
    (started / "seed0.json.claim").write_text("{}")  # a run that has only claimed its cell
    assert not has_results("started", results_dir=tmp_path)
    (started / "seed0.json").write_text("{}")
    assert has_results("started", results_dir=tmp_path) and has_results(tmp_path / "started")


def test_experiment_overview_counts_models_cpu_time_and_samples(tmp_path):
    import json

    from minde.experiments.results import experiment_overview

    for seed, cpu, version in ((0, 1800.0, "0.10.1"), (2, 3600.0, "0.2.0"), (3, 0.0, None)):
        cell = tmp_path / "exp" / "task" / "MINDE-C" / f"seed{seed}.json"
        cell.parent.mkdir(parents=True, exist_ok=True)
        cell.write_text(json.dumps({"seed": seed, "cpu_seconds": cpu, "seconds": 1.0, "n_train": 900, "n_test": 100,
                                    "protocol": "cpu"} | ({"minde_version": version} if version else {})))  # fmt: skip
    info = experiment_overview(tmp_path / "exp")
    assert info == {"models": 3, "estimates": 0, "cpu_hours": 1.5, "samples": [1000], "seeds": "0,2,3", "protocols": "cpu",
                    "versions": ["0.2", "0.10"]}  # fmt: skip
    with pytest.raises(FileNotFoundError, match="no such experiment"):
        experiment_overview("nope", results_dir=tmp_path)


def test_load_experiment_names_a_missing_experiment_and_the_ones_there_are(tmp_path):
    from minde.experiments.results import available_experiments, load_experiment

    for name in ("b-exp", "a-exp"):
        (tmp_path / name).mkdir()
    assert available_experiments(tmp_path) == ["a-exp", "b-exp"]
    with pytest.raises(FileNotFoundError, match=r"no such experiment 'no-such' in .* \(have: a-exp, b-exp\)"):
        load_experiment("no-such", results_dir=tmp_path)
    with pytest.raises(FileNotFoundError, match="no experiments there"):
        load_experiment("x", results_dir=tmp_path / "nowhere")


def test_average_forms_is_the_per_seed_mean_of_complete_pairs():
    from minde.experiments.results import average_forms, per_task

    df = pd.DataFrame({
        "task": ["a", "a", "a", "a", "b"], "estimator": ["C", "J", "C", "J", "C"], "seed": [0, 0, 1, 1, 0],
        "estimate": [1.0, 1.4, 1.2, 1.0, 3.0], "gt": [1.1] * 4 + [3.0], "stderr": [0.03, 0.04, 0.0, 0.0, 0.1],
    })  # fmt: skip
    avg = average_forms(df, ["C", "J"])
    assert list(avg["estimator"].unique()) == ["mean(C, J)"] and set(avg["task"]) == {"a"}  # b lacks J
    assert avg.set_index("seed")["estimate"].to_dict() == pytest.approx({0: 1.2, 1: 1.1})
    assert avg.loc[avg["seed"] == 0, "stderr"].item() == pytest.approx(0.025)  # sqrt(0.03^2 + 0.04^2) / 2
    assert per_task(avg)["error"].item() == pytest.approx(0.05)
    with pytest.raises(ValueError, match="no results for K"):
        average_forms(df, ["C", "K"])
    with pytest.raises(ValueError, match="at least two"):
        average_forms(df, ["C"])


def test_ensemble_intervals_add_the_range_of_the_averaged_forms():
    from scipy import stats

    from minde.experiments.results import ensemble_intervals

    df = pd.DataFrame({
        "task": ["a", "a"], "estimator": ["C", "J"], "seed": [0, 0],
        "estimate": [0.8, 1.1], "gt": [1.0, 1.0], "stderr": [0.02, 0.02],
    })  # fmt: skip
    iv = ensemble_intervals(df, ["C", "J"]).iloc[0]
    mc = stats.norm.ppf(0.975) * np.hypot(0.02, 0.02) / 2
    assert iv["mean"] == pytest.approx(0.95) and iv["half_width"] == pytest.approx(np.hypot(mc, 0.3))
    assert iv["covers"] and iv["kind"] == "mc+range" and iv["estimator"] == "mean(C, J)"


def test_with_error_bars_fills_one_seed_with_the_reported_stderr():
    from minde.experiments.results import per_task, with_error_bars

    results = pd.DataFrame({"task": ["a", "a", "b", "c"], "estimator": ["E", "E", "E", "K"], "seed": [0, 1, 0, 0],
                            "estimate": [1.0, 1.2, 2.0, 3.0], "gt": [1.0, 1.0, 2.0, 3.0],
                            "stderr": [0.05, 0.07, 0.03, float("nan")]})  # fmt: skip
    table = with_error_bars(per_task(results), results).set_index("task")["std"]
    assert table["a"] == pytest.approx(np.std([1.0, 1.2], ddof=1))  # several seeds: their spread, kept
    assert table["b"] == pytest.approx(0.03) and np.isnan(table["c"])  # one seed: its stderr; none reported: none


def test_cost_accuracy_counts_by_the_mean_and_by_seed_and_hours_per_seed():
    from minde.experiments.results import cost_accuracy

    # E on task a: seeds at GT-0.15 and GT+0.1 (only seed 1 alone is within 0.1, the mean is); on b: both within
    df = pd.DataFrame({"task": ["a", "a", "b", "b"], "estimator": ["E+steps=10"] * 4, "seed": [0, 1, 0, 1],
                       "estimate": [0.85, 1.05, 2.0, 2.05], "gt": [1.0, 1.0, 2.0, 2.0],
                       "cpu_seconds": [3600.0, 1800.0, 1800.0, 0.0]})  # fmt: skip
    df["abs_error"] = (df["estimate"] - df["gt"]).abs()
    row = cost_accuracy({"run": df}).iloc[0]
    assert (row["setting"], row["estimator"], row["solved"], row["tasks"], row["seeds"]) == ("run", "E+steps=10", 2, 2, 2)
    assert (row["solved_min_seed"], row["solved_max_seed"]) == (1, 2)
    assert row["cpu_hours"] == pytest.approx(2.0) and row["cpu_hours_per_seed"] == pytest.approx(1.0)
    assert row["mean_abs_error"] == pytest.approx((0.05 + 0.025) / 2)


def test_plot_cost_accuracy_draws_every_setting():
    from minde.plotting.benchmark import plot_cost_accuracy

    table = pd.DataFrame({"setting": ["x", "y"], "estimator": ["MINDE-C", "MINDE-J+budget=adaptive"], "solved": [35, 32],
                          "solved_min_seed": [34, 30], "solved_max_seed": [36, 33], "mean_abs_error": [0.04, 0.05],
                          "cpu_hours_per_seed": [0.8, 1.1]})  # fmt: skip
    fig = plot_cost_accuracy(table)
    left, right = fig.axes
    assert [t.get_text() for t in left.texts] == ["x", "y"] and len(right.lines) == 2
    assert left.get_xscale() == "log"


def test_baseline_form_drops_configuration_tags_and_keeps_variant_tags():
    from minde.experiments.results import baseline_form

    assert baseline_form("InfoNCE+monitor_rows=1000") == "InfoNCE"
    assert baseline_form("KSG+k=10") == "KSG"
    assert baseline_form("DoE+pdf=logistic") == "DoE(logistic)"
    assert baseline_form("DoE") == "DoE" and baseline_form("MINDE-C(sigma)") == "MINDE-C(sigma)"


def test_settings_counts_put_two_settings_of_one_baseline_side_by_side():
    from minde.experiments.results import settings_counts, settings_per_task

    tasks, gts = ["a", "b", "c"], [1.0, 2.0, 3.0]
    defaults = _summary({"InfoNCE": [1.05, 1.5, 2.0], "KSG": [1.0, 2.0, 3.3]}, tasks, gts)
    authors = pd.concat([
        _summary({"InfoNCE+monitor_rows=1000": [1.0, 2.05, 2.5]}, tasks, gts),
        _summary({"KSG+k=10": [1.2, 2.0]}, tasks[:2], gts[:2]),  # KSG: two tasks only
        _summary({"DoE+pdf=logistic": [0.5, 2.0, 3.0]}, tasks, gts),
    ])  # fmt: skip
    table = settings_per_task({"defaults": defaults, "authors": authors})
    assert set(table["form"]) == {"InfoNCE", "KSG", "DoE(logistic)"}
    counts = settings_counts(table)
    assert list(counts.index) == ["InfoNCE", "KSG", "DoE(logistic)"]
    assert counts.loc["InfoNCE", ("defaults", "solved")] == 1 and counts.loc["InfoNCE", ("authors", "solved")] == 2
    assert counts.loc["KSG", ("authors", "covered")] == 2 and counts.loc["KSG", ("authors", "solved")] == 1
    assert counts.loc["InfoNCE", ("authors", "mean_abs_error")] == pytest.approx((0.0 + 0.05 + 0.5) / 3)
    assert pd.isna(counts.loc["DoE(logistic)", ("defaults", "solved")])  # not run under the defaults
    assert counts.loc["InfoNCE", ("MMG paper", "tally /40")] == 33 and pd.isna(counts.loc["KSG", ("MMG paper", "tally /40")])


def test_settings_per_task_refuses_two_results_of_one_form_in_one_setting():
    from minde.experiments.results import settings_per_task

    twins = _summary({"KSG": [1.0], "KSG+k=10": [1.1]}, ["a"], [1.0])
    with pytest.raises(ValueError, match="KSG"):
        settings_per_task({"mixed": twins})


def test_settings_tables_of_nothing_are_empty():
    from minde.experiments.results import settings_counts, settings_per_task

    empty = settings_per_task({})
    assert empty.empty and {"task", "form", "setting", "error"} <= set(empty.columns)
    assert settings_counts(empty).empty
