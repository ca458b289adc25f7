"""The machine-speed calibration: what it measures, that it leaves the caller's random state alone, how the grid
records it, and how CPU time is rescaled with it."""

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
import torch

from minde.experiments import grid as ex
from minde.experiments import speed


def test_step_milliseconds_times_stacked_steps_and_leaves_the_random_state_alone():
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    ms = speed.step_milliseconds(1, "c", steps=5, batch=256, members=2, warmup=20)  # not so short that it trips
    # the divergence check on the final loss
    assert torch.equal(torch.rand(3), expected)  # drew from its own generators only
    assert 0 < ms < 1e4
    with pytest.raises(ValueError, match="need steps, members and dim of at least 1"):
        speed.step_milliseconds(1, steps=0)


def test_machine_speed_reports_the_calibration_workload(monkeypatch):
    calls = []

    def fake(dim, variant, steps, batch, members, **kw):
        calls.append((dim, variant, steps, batch, members, kw))
        return 12.0  # ms per step of the whole stack

    monkeypatch.setattr(speed, "step_milliseconds", fake)
    out = speed.machine_speed()
    c = speed.CALIBRATION
    assert out["ms_per_model_step"] == pytest.approx(12.0 / c["members"]) and out["workload"] == c
    [(dim, variant, steps, batch, members, kw)] = calls
    assert (dim, variant, steps, batch, members) == (1, "c", c["steps"], 256, 8)
    assert kw["lr_schedule"] == "cosine" and kw["threads"] == 1 and kw["clock"] is speed.time.process_time
    # and the workload is the cpu protocol's 1 x 1 MINDE-C group
    cpu = ex.PROTOCOLS["cpu"].minde_kwargs(2, "c")
    assert (cpu["batch_size"], cpu["lr"], cpu["lr_schedule"]) == (c["batch"], c["lr"], c["lr_schedule"])


def test_at_reference_speed_rescales_and_refuses_nonsense():
    assert speed.at_reference_speed(100.0, 2.0, 1.0) == pytest.approx(50.0)
    for bad in ((100.0, 0.0, 1.0), (100.0, 1.0, -1.0), (100.0, float("nan"), 1.0)):
        with pytest.raises(ValueError, match="speeds must be positive"):
            speed.at_reference_speed(*bad)
    # a results column: unknown speeds stay unknown, a nonsense one is refused
    got = speed.at_reference_speed([100.0, 100.0], [2.0, np.nan], 1.0)
    assert got[0] == pytest.approx(50.0) and np.isnan(got[1])
    with pytest.raises(ValueError, match="speeds must be positive"):
        speed.at_reference_speed(np.array([100.0, 100.0]), np.array([2.0, 0.0]), 1.0)


def _cell(estimator="MINDE-C", dim=1, models=8, settings=None, steps=40000, cpu=384.0, stop="fixed", cells=("a",)):
    return {"estimator": estimator, "protocol": "cpu", "dim_x": dim, "dim_y": dim, "settings": settings or {},
            "steps": steps, "fit_info": {"stop_rule": stop},
            "trained_together": {"models": models, "cells": list(cells), "cpu_seconds": cpu}}  # fmt: skip


def test_speed_from_results_reads_the_calibration_workload_off_an_older_grid():
    group = [_cell(cells=("a", "b")), _cell(cells=("a", "b"))]  # two cells of one group: counted once
    other = [_cell(cpu=768.0, cells=("c",)), _cell(cpu=960.0, cells=("d",))]
    assert speed.speed_from_results(group) == pytest.approx(384.0 * 1e3 / (8 * 40000))
    assert speed.speed_from_results(group + other) == pytest.approx(768.0 * 1e3 / (8 * 40000))  # the median of three
    for wrong in (_cell(estimator="MINDE-J"), _cell(dim=5), _cell(models=5), _cell(settings={"n_blocks": 4}),
                  _cell(stop="plateau")):  # fmt: skip
        assert speed.speed_from_results([wrong]) is None


def test_grid_records_the_speed_before_training_and_the_summary_carries_it(monkeypatch, tmp_path):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # the calibration is of the CPU (device="auto")
    monkeypatch.setattr(ex, "machine_speed", lambda: {"ms_per_model_step": 1.5, "workload": {}, "clock": "x"})
    cells = ex.make_grid(["1v1-normal-0.75", "1v1-bimodal-0.75"], ["MINDE-C"], [0], "smoke")
    ex.run_grid(cells, tmp_path / "off", progress=False)  # the smoke protocol does not calibrate
    assert "machine_speed" not in json.loads(cells[0].path(tmp_path / "off").read_text())
    monkeypatch.setitem(ex.PROTOCOLS, "smoke", dataclasses.replace(ex.PROTOCOLS["smoke"], calibrate=True))
    ex.run_grid(cells, tmp_path / "on", progress=False)
    for c in cells:
        assert json.loads(c.path(tmp_path / "on").read_text())["machine_speed"]["ms_per_model_step"] == 1.5
    rows = pd.read_csv(ex.summarize(tmp_path / "on"))
    assert (rows["ms_per_model_step"] == 1.5).all()
    assert pd.read_csv(ex.summarize(tmp_path / "off"))["ms_per_model_step"].isna().all()


def test_cost_accuracy_at_a_reference_speed():
    from minde.experiments.results import cost_accuracy

    df = pd.DataFrame({"task": ["a", "b", "a", "b"], "estimator": ["E"] * 4, "seed": [0, 0, 1, 1],
                       "estimate": [1.0, 2.0, 1.0, 2.0], "gt": [1.0, 2.0, 1.0, 2.0], "abs_error": [0.0] * 4,
                       "cpu_seconds": [3600.0, 7200.0, 3600.0, 3600.0],
                       "ms_per_model_step": [2.0, None, 2.0, 2.0]})  # fmt: skip
    old = df.drop(columns="ms_per_model_step")
    table = cost_accuracy({"new": df, "old": old, "bare": old}, reference_ms=1.5, speeds={"new": 4.0, "old": 3.0})
    hours = table.set_index("setting")["cpu_hours_per_seed_at_reference"]
    # recorded speed first, then speeds[label]; per seed: over the two seeds
    assert hours["new"] == pytest.approx(1.5 * (3600 / 2.0 + 7200 / 4.0 + 3600 / 2.0 + 3600 / 2.0) / 3600 / 2)
    assert hours["old"] == pytest.approx(1.5 * 18000 / 3.0 / 3600 / 2)
    assert pd.isna(hours["bare"])  # no speed known for it: not a guess
    assert "cpu_hours_per_seed_at_reference" not in cost_accuracy({"new": df})
    with pytest.raises(ValueError, match="reference_ms must be a positive speed"):
        cost_accuracy({"new": df}, reference_ms=0.0)
