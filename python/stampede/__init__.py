"""stampede: batched humanoid locomotion environments.

    import stampede
    env = stampede.make_env("h1-walk", num_envs=4096, device="mujoco", seed=0)
    obs, info = env.reset()
    obs, reward, terminated, truncated, info = env.step(actions)  # float32 (num_envs, act_dim)

Arrays are numpy arrays the C++ env wrote in place (no copies). Worlds that end reset
automatically; info["final_obs"] holds the observation each ended episode stopped on.
"""

import os as _os
import sys as _sys

import mujoco as _mujoco  # noqa: F401  loads the libmujoco.so.4.0.0 that _core links against

from ._core import VecEnv, data_dir, devices, make_env, set_data_dir, sim, tasks

_sys.modules[__name__ + ".sim"] = sim

__all__ = ["VecEnv", "make_env", "tasks", "devices", "data_dir", "set_data_dir", "sim"]
__version__ = "0.1.0"

# an installed package carries its robots and task configs in stampede/data
_bundled = _os.path.join(_os.path.dirname(__file__), "data")
if not _os.environ.get("STAMPEDE_DATA_DIR") and _os.path.isdir(_os.path.join(_bundled, "configs")):
    set_data_dir(_bundled)
