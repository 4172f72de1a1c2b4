"""demos/tabular_vs_deep.py runs end to end with a tiny budget and writes its pictures and table."""

import json
import runpy
from pathlib import Path

import numpy as np

DEMO = Path(__file__).resolve().parent.parent / "demos" / "tabular_vs_deep.py"


def test_tabular_vs_deep_demo_writes_both_plots_and_the_table(tmp_path, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    main = runpy.run_path(str(DEMO), run_name="demo")["main"]
    report = main(["--seeds", "1", "--steps", "300", "--eval-every", "100", "--eval-episodes", "2",
                   "--dqn.learning_starts", "100", "--out", str(tmp_path)])
    for name in ("tabular_vs_deep_cartpole.png", "tabular_vs_deep_frozenlake.png", "tabular_vs_deep.json"):
        assert (tmp_path / name).stat().st_size > 0, name
    saved = json.loads((tmp_path / "tabular_vs_deep.json").read_text())
    assert saved["dqn_config"]["learning_starts"] == 100 == report["dqn_config"]["learning_starts"]
    for part in ("cartpole", "frozenlake"):
        table = saved[part]["table"]
        assert [row["agent"] for row in table] == ["tabular", "dqn"]
        assert saved[part]["points"] == [0, 100, 200, 300]
        for kind in ("tabular", "dqn"):  # one curve per seed, a finite value at every point
            curves = np.array(saved[part]["curves"][kind])
            assert curves.shape == (1, 4) and np.isfinite(curves).all()
        assert all(row["env_steps"] == 300 for row in table)  # both agents count env steps alike
    cartpole = {row["agent"]: row for row in saved["cartpole"]["table"]}
    assert cartpole["tabular"]["table_cells"] == 480 * 2
    assert 0 < cartpole["tabular"]["visited_states"] <= 1
    assert cartpole["dqn"]["network_params"] == (4 * 64 + 64) + (64 * 64 + 64) + (64 * 3 + 3)  # dueling: 1 + A
    assert 0.70 < saved["frozenlake"]["thresholds"][0] + 0.02 < 0.75  # the exact optimum: 74.0%


def test_tabular_vs_deep_demo_runs_one_part_and_passes_tabular_flags(tmp_path, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    main = runpy.run_path(str(DEMO), run_name="demo")["main"]
    report = main(["--part", "frozenlake", "--seeds", "1", "--steps", "200", "--eval-every", "100",
                   "--tabular.alpha_end", "0.05", "--out", str(tmp_path)])
    assert "cartpole" not in report and report["frozenlake"]["tabular_config"]["alpha_end"] == 0.05
    assert not (tmp_path / "tabular_vs_deep_cartpole.png").exists()
