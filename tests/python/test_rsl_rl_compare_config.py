"""benchmarks/rsl_rl_compare.py reads our config without running our code (it parses rl/config.h
and the CPU preset) and maps it onto rsl_rl's. Checked here without torch: what it expects
equals what `stampede.train` resolves and writes to config.yaml, and every mapped value is ours.
"""

import importlib.util
import math
import pathlib
import types

import stampede

yaml = __import__("yaml")

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _compare_module():
    spec = importlib.util.spec_from_file_location("rsl_rl_compare", ROOT / "benchmarks" / "rsl_rl_compare.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_expected_config_is_what_train_resolves(tmp_path):
    cmp = _compare_module()
    args = types.SimpleNamespace(seed=1, threads=2, num_envs=0)
    expected, preset = cmp.expected_config("h1-walk", args)
    assert preset == str(ROOT / "configs" / "train" / "h1-walk-cpu.yaml")
    # iterations=0: the run writes its resolved config and stops
    run, _ = stampede.train("h1-walk", iterations=0, seed=1, overrides={"runner.num_threads": 2},
                            run_dir=str(tmp_path / "run"), quiet=True)
    defaults = cmp.parse_config_h(str(ROOT / "rl" / "config.h"))
    resolved = cmp.coerce_config(yaml.safe_load((pathlib.Path(run) / "config.yaml").read_text()), defaults)
    assert cmp.config_differences(expected, resolved) == []
    # every field of rl/config.h was parsed (a field the regex misses would go unchecked)
    written = yaml.safe_load((pathlib.Path(run) / "config.yaml").read_text())
    for section in ("policy", "algorithm", "runner"):
        assert set(written[section]) <= set(defaults[section]), section


def test_mapping_carries_our_values():
    cmp = _compare_module()
    args = types.SimpleNamespace(seed=1, threads=2, num_envs=0)
    cfg, _ = cmp.expected_config("h1-walk", args)
    train_cfg, rows = cmp.map_config(cfg)
    alg = train_cfg["algorithm"]
    for key in ("num_learning_epochs", "num_mini_batches", "clip_param", "gamma", "lam", "value_loss_coef",
                "entropy_coef", "learning_rate", "schedule", "desired_kl", "max_grad_norm", "use_clipped_value_loss"):
        ours = cfg["algorithm"][key]
        assert alg[key] == ours or (isinstance(ours, float) and math.isclose(alg[key], ours)), key
    assert train_cfg["actor"]["hidden_dims"] == cfg["policy"]["actor_hidden"]
    assert train_cfg["critic"]["hidden_dims"] == cfg["policy"]["critic_hidden"]
    assert train_cfg["actor"]["activation"] == cfg["policy"]["activation"] == "elu"
    assert train_cfg["actor"]["distribution_cfg"]["init_std"] == cfg["policy"]["init_noise_std"]
    assert train_cfg["num_steps_per_env"] == cfg["runner"]["num_steps_per_env"]
    assert train_cfg["actor"]["obs_normalization"] is True
    # the JSON's mapping names each key once, with our value
    assert len({r["stampede"] for r in rows}) == len(rows)
