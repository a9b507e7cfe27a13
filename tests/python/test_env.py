"""The Python module: gymnasium-style vector API over the C++ locomotion env.

Run with the in-tree build on the path:  PYTHONPATH=build/python pytest tests/python
"""

import threading
import time

import numpy as np
import pytest

import stampede

NUM_ENVS = 16


@pytest.fixture(scope="module")
def env():
    e = stampede.make_env("h1-walk", num_envs=NUM_ENVS, device="mujoco", seed=0, num_threads=1)
    yield e
    e.close()


def quiet_config(tmp_path, **overrides):
    """A task YAML for the H1 with every random draw off."""
    lines = [
        "name: quiet",
        "robot: h1",
        "episode_length: %s" % overrides.get("episode_length", 20.0),
        "commands: {heading_command: false}",
        "init: {joint_pos_noise: 0, base_lin_vel_noise: 0, base_ang_vel_noise: 0, base_yaw_range: 0}",
        "domain_rand: {enabled: false}",
    ]
    path = tmp_path / "quiet.yaml"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def random_actions(rng, env):
    return rng.uniform(-1.0, 1.0, size=(env.num_envs, env.act_dim)).astype(np.float32)


def test_module_lists_tasks_and_devices():
    assert "h1-walk" in stampede.tasks()
    assert "mujoco" in stampede.devices()


def test_properties(env):
    assert env.num_envs == NUM_ENVS
    assert env.act_dim == 19
    assert env.obs_dim == 3 + 3 + 3 + 3 + 3 * 19 + 2
    assert env.max_episode_steps == 1000  # 20 s at 50 Hz
    assert env.device == "mujoco"
    assert env.control_dt == pytest.approx(0.02)
    assert len(env.contract_hash) == 64
    assert "tracking_lin_vel" in env.reward_term_names
    assert "termination" in env.reward_term_names
    terms = env.observation_terms
    assert [t for t, _ in terms] == ["base_lin_vel", "base_ang_vel", "projected_gravity", "commands", "joint_pos",
                                     "joint_vel", "last_action", "gait_phase"]
    assert sum(n for _, n in terms) == env.obs_dim


def test_reset_returns_capsule_owned_float32_arrays(env):
    obs, info = env.reset(seed=3)
    assert isinstance(info, dict)
    assert obs.shape == (NUM_ENVS, env.obs_dim)
    assert obs.dtype == np.float32
    assert obs.flags["C_CONTIGUOUS"]
    # zero-copy: the env wrote into memory a capsule owns, not a numpy-allocated copy
    assert not obs.flags["OWNDATA"]
    assert type(obs.base).__name__ == "PyCapsule"
    assert np.all(np.isfinite(obs))
    # reseeding repeats the randomized initial states (and observation noise)
    again, _ = env.reset(seed=3)
    np.testing.assert_array_equal(obs, again)
    other, _ = env.reset(seed=4)
    assert not np.array_equal(obs, other)


def test_step_outputs_and_fresh_buffers(env):
    rng = np.random.default_rng(0)
    obs0, _ = env.reset()
    obs, reward, terminated, truncated, info = env.step(random_actions(rng, env))
    assert obs.shape == (NUM_ENVS, env.obs_dim) and obs.dtype == np.float32
    assert reward.shape == (NUM_ENVS,) and reward.dtype == np.float32
    assert terminated.shape == (NUM_ENVS,) and terminated.dtype == np.bool_
    assert truncated.shape == (NUM_ENVS,) and truncated.dtype == np.bool_
    assert set(info["reward_terms"]) == set(env.reward_term_names)
    for arr in info["reward_terms"].values():
        assert arr.shape == (NUM_ENVS,) and arr.dtype == np.float32
    assert info["final_obs"].shape == obs.shape
    # each step hands out new arrays: earlier results are not overwritten
    obs2, *_ = env.step(random_actions(rng, env))
    assert not np.shares_memory(obs, obs2)
    assert not np.shares_memory(obs0, obs)


def test_1000_random_steps(env):
    """1000 steps of random actions: finite outputs, consistent rewards, episodes end and reset."""
    rng = np.random.default_rng(1)
    env.reset(seed=1)
    names = env.reward_term_names
    ended = 0
    for _ in range(1000):
        obs, reward, terminated, truncated, info = env.step(random_actions(rng, env))
        assert np.all(np.isfinite(obs))
        assert np.all(np.isfinite(reward))
        assert not np.any(terminated & truncated)
        terms = info["reward_terms"]
        # the reward is the sum of its terms (h1-walk does not clip the non-termination part at
        # 0 as legged_gym does; h1-joystick does)
        rest = sum(terms[n].astype(np.float64) for n in names if n != "termination")
        expected = rest + terms["termination"]
        np.testing.assert_allclose(reward, expected, rtol=1e-5, atol=1e-6)
        # a termination pays the penalty, a time-out does not
        assert np.all(terms["termination"][terminated] < 0)
        assert np.all(terms["termination"][~terminated] == 0)
        done = terminated | truncated
        np.testing.assert_array_equal(info["_final_observation"], done)
        ended += int(done.sum())
    # random actions make a humanoid fall well within 20 s
    assert ended >= NUM_ENVS


def test_same_seed_same_trajectory():
    def rollout(seed):
        e = stampede.make_env("h1-walk", num_envs=4, seed=seed, num_threads=1)
        rng = np.random.default_rng(5)
        obs, _ = e.reset()
        trace = [obs]
        for _ in range(40):
            obs, reward, terminated, truncated, _ = e.step(random_actions(rng, e))
            trace += [obs, reward, terminated, truncated]
        e.close()
        return trace

    a, b, c = rollout(7), rollout(7), rollout(8)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert any(not np.array_equal(x, y) for x, y in zip(a, c))


def test_truncation_keeps_final_observation(tmp_path):
    e = stampede.make_env("h1-walk", num_envs=3, config=quiet_config(tmp_path, episode_length=0.1), num_threads=1)
    obs, _ = e.reset()
    zeros = np.zeros((3, e.act_dim), np.float32)
    for _ in range(4):
        obs, reward, terminated, truncated, info = e.step(zeros)
        assert not truncated.any() and not terminated.any()
    obs, reward, terminated, truncated, info = e.step(zeros)
    assert truncated.all() and not terminated.any()
    # the gait clock: final_obs at t = 0.1 s, the new episode's obs at t = 0
    assert info["final_obs"][:, -2] == pytest.approx(np.sin(2 * np.pi * 0.1 / 0.8), abs=1e-6)
    assert np.all(obs[:, -2] == 0.0)
    assert info["stats"]["episode/finished"] == 3
    e.close()


def test_bad_arguments_raise_clear_errors(env):
    good = np.zeros((NUM_ENVS, env.act_dim), np.float32)
    with pytest.raises(TypeError, match="float32"):
        env.step(good.astype(np.float64))
    with pytest.raises(ValueError, match=r"expected shape \(16, 19\), got \(16, 18\)"):
        env.step(good[:, :18])
    with pytest.raises(ValueError, match="got \\(304,\\)"):
        env.step(good.reshape(-1))
    with pytest.raises(TypeError, match="numpy.ndarray"):
        env.step(good.tolist())
    # a non-contiguous float32 view is accepted (copied to contiguous memory)
    wide = np.zeros((NUM_ENVS, 2 * env.act_dim), np.float32)
    env.step(wide[:, ::2])
    with pytest.raises(ValueError, match="unknown task 'walk-on-mars'.*h1-walk"):
        stampede.make_env("walk-on-mars", num_envs=2)
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        stampede.make_env("h1-walk", num_envs=2, device="tpu")
    with pytest.raises(ValueError, match="num_envs"):
        stampede.make_env("h1-walk", num_envs=0)


def test_cuda_without_gpu_is_a_clear_error():
    if "cuda" in stampede.devices():
        pytest.skip("this build has the CUDA backend; the no-GPU message is the backend's")
    with pytest.raises(ValueError, match="cuda"):
        stampede.make_env("h1-walk", num_envs=2, device="cuda")


def test_cuda_env_device_arrays():
    """On a GPU: the env's state and stages live on the device; obs, reward and the done flags
    come back as device arrays (__cuda_array_interface__, DLPack), actions go in as numpy or as
    a device array, and the first observation equals the CPU env's to float rounding."""
    if "cuda" not in stampede.devices():
        pytest.skip("this build has no CUDA backend")
    try:
        e = stampede.make_env("h1-walk", num_envs=8, device="cuda", seed=3)
    except RuntimeError as err:
        assert "no CUDA device" in str(err)
        pytest.skip(f"no usable CUDA device: {err}")
    ref = stampede.make_env("h1-walk", num_envs=8, device="cpu", seed=3, num_threads=1)
    obs, _ = e.reset()
    ref_obs, _ = ref.reset()
    assert isinstance(obs, stampede.sim.CudaArray)
    cai = obs.__cuda_array_interface__
    assert cai["shape"] == (8, e.obs_dim) and cai["typestr"] == "<f4"
    np.testing.assert_allclose(obs.numpy(), ref_obs, atol=1e-4)
    act = np.zeros((8, e.act_dim), np.float32)
    for _ in range(50):
        obs, reward, terminated, truncated, info = e.step(act)
    assert obs.numpy().shape == (8, e.obs_dim) and np.isfinite(obs.numpy()).all()
    assert reward.numpy().dtype == np.float32 and terminated.numpy().dtype == np.bool_
    assert set(info["reward_terms"]) == set(e.reward_term_names)
    with pytest.raises(ValueError, match="shape"):
        e.step(np.zeros((7, e.act_dim), np.float32))


def test_closed_env_raises():
    e = stampede.make_env("h1-walk", num_envs=1, num_threads=1)
    e.close()
    with pytest.raises(RuntimeError, match="closed"):
        e.reset()


def test_gil_is_released_while_stepping():
    """Another Python thread keeps running while a long step runs in C++."""
    e = stampede.make_env("h1-walk", num_envs=256, num_threads=1)
    e.reset()
    actions = np.zeros((256, e.act_dim), np.float32)
    t0 = time.perf_counter()
    e.step(actions)
    step_time = time.perf_counter() - t0

    done = threading.Event()

    def worker():
        for _ in range(3):
            e.step(actions)
        done.set()

    stamps = []
    th = threading.Thread(target=worker)
    th.start()
    while not done.is_set():
        stamps.append(time.perf_counter())
        time.sleep(0.001)
    th.join()
    gaps = np.diff(stamps) if len(stamps) > 1 else np.array([np.inf])
    # with the GIL held, this loop would stall for a whole step at a time
    assert gaps.max() < 0.5 * step_time, (gaps.max(), step_time)
    e.close()


@pytest.mark.skipif("cpu" not in stampede.devices(), reason="this build has no CPU kernel backend")
def test_cpu_kernel_backend_steps():
    e = stampede.make_env("h1-walk", num_envs=4, device="cpu", seed=0, num_threads=1)
    assert e.device == "cpu"
    rng = np.random.default_rng(2)
    obs, _ = e.reset()
    for _ in range(50):
        obs, reward, terminated, truncated, info = e.step(random_actions(rng, e))
        assert np.all(np.isfinite(obs)) and np.all(np.isfinite(reward))
        assert not np.any(terminated & truncated)
    e.close()
