"""stampede.sim against the mujoco Python package: after forward() qacc, xpos, xquat and the
contact set, after 100 steps the trajectory, on the project robots and on random trees, backend
cpu in float64; zero-copy views, GIL release, and every kind of bad input.

Run: PYTHONPATH=build/python python3 -m pytest -q tests/python/test_sim.py
"""

import os
import tempfile
import threading
import time

import mujoco
import numpy as np
import pytest

import stampede

sim_api = stampede.sim

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
H1 = os.path.join(ROOT, "assets", "h1", "h1.xml")
HUMANOID = os.path.join(ROOT, "assets", "humanoid", "humanoid.xml")


# ---------------------------------------------------------------------------------------------
# helpers


def randomize(m, d, rng):
    """A random but physical state: free roots 0.2-1.3 m high, joints inside their ranges, small
    velocities, controls in [-1, 1]."""
    mujoco.mj_resetData(m, d)
    for j in range(m.njnt):
        a = m.jnt_qposadr[j]
        t = m.jnt_type[j]
        if t == mujoco.mjtJoint.mjJNT_FREE:
            d.qpos[a : a + 2] += 0.2 * rng.standard_normal(2)
            d.qpos[a + 2] = rng.uniform(0.2, 1.3)
            q = np.array([3.0, 0, 0, 0]) + rng.standard_normal(4)
            d.qpos[a + 3 : a + 7] = q / np.linalg.norm(q)
        elif t == mujoco.mjtJoint.mjJNT_BALL:
            q = np.array([2.0, 0, 0, 0]) + rng.standard_normal(4)
            d.qpos[a : a + 4] = q / np.linalg.norm(q)
        else:
            lo, hi = (m.jnt_range[j] if m.jnt_limited[j] else (-0.5, 0.5))
            d.qpos[a] = rng.uniform(lo, hi)
    d.qvel[:] = 0.3 * rng.standard_normal(m.nv)
    d.ctrl[:] = rng.uniform(-1, 1, m.nu)


def max_rel(a, b):
    """Largest |a - b| relative to 1 + max |b|."""
    a, b = np.asarray(a, dtype=np.float64).ravel(), np.asarray(b, dtype=np.float64).ravel()
    if b.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b)) / (1.0 + np.max(np.abs(b))))


def contact_set(geom, dist, pos, frame):
    """Contacts sorted by (geom1, geom2, dist), for order-independent comparison."""
    order = np.lexsort((dist, geom[:, 1], geom[:, 0]))
    return geom[order], dist[order], pos[order], frame.reshape(-1, 9)[order]


def random_tree_xml(rng, nbody):
    """A random kinematic tree over a floor: a free root, then hinge, slide and ball joints;
    capsule, sphere and box geoms; a motor on every hinge and slide."""
    x = ["<mujoco><option timestep='0.004'/><worldbody><geom name='floor' type='plane' size='5 5 0.1'/>"]
    actuated = []
    open_ = 0
    for b in range(nbody):
        if b > 0:
            close = int(rng.uniform() * open_)
            x.append("</body>" * close)
            open_ -= close
        p = [0, 0, 1.0] if b == 0 else [0.3 * (rng.uniform() - 0.5), 0.3 * (rng.uniform() - 0.5), -0.15 - 0.2 * rng.uniform()]
        x.append(f"<body name='b{b}' pos='{p[0]} {p[1]} {p[2]}'>")
        open_ += 1
        if b == 0:
            x.append("<freejoint/>")
        else:
            r = rng.uniform()
            kind = "hinge" if r < 0.5 else "slide" if r < 0.75 else "ball"
            ax = rng.uniform(-0.5, 0.5, 3)
            j = f"<joint name='j{b}' type='{kind}' axis='{ax[0]} {ax[1]} {ax[2]}' damping='{0.5 * rng.uniform()}'"
            if kind != "ball":
                j += " range='-0.6 0.6'"
                actuated.append(f"j{b}")
            x.append(j + "/>")
        g = rng.uniform()
        if g < 0.4:
            x.append(f"<geom type='capsule' size='{0.03 + 0.03 * rng.uniform()}' fromto='0 0 0 0 0 {-0.1 - 0.1 * rng.uniform()}'/>")
        elif g < 0.7:
            x.append(f"<geom type='sphere' size='{0.04 + 0.05 * rng.uniform()}'/>")
        else:
            s = 0.03 + 0.05 * rng.uniform(size=3)
            x.append(f"<geom type='box' size='{s[0]} {s[1]} {s[2]}'/>")
    x.append("</body>" * open_)
    x.append("</worldbody><actuator>")
    for j in actuated:
        x.append(f"<motor joint='{j}' gear='{5 + 20 * rng.uniform()}' ctrlrange='-1 1'/>")
    x.append("</actuator></mujoco>")
    return "".join(x)


@pytest.fixture(scope="module")
def tree_paths():
    rng = np.random.default_rng(7)
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for t in range(8):
            p = os.path.join(tmp, f"tree{t}.xml")
            with open(p, "w") as f:
                f.write(random_tree_xml(rng, 2 + t % 7))
            paths.append(p)
        yield paths


# ---------------------------------------------------------------------------------------------
# stampede.sim vs mujoco

# Tolerances, relative to 1 + the largest magnitude, as in tests/sim/api/test_sim_api.cpp
# (measured there: kinematics <= 2e-16, contacts <= 2e-15, qacc <= 5e-14, 100-step trajectories
# <= 7e-14): kinematics and contact geometry are closed-form (rounding level); qacc goes through
# the mass-matrix factorization and the Newton solver, whose conditioning amplifies rounding by
# up to ~1e3; 100 steps of falling robots with contacts opening and closing are chaotic, so
# rounding differences grow every step: the worst case measured here is random tree 5, world 3,
# whose bodies stay deeply interpenetrated (-6 cm) against each other: its divergence grows
# smoothly by ~2.5x every 10 steps from 2e-14 to 4e-9 at step 100 (the robots stay below 1e-13).
TOL_KINEMATICS = 1e-14
TOL_CONTACT = 1e-13
TOL_QACC = 1e-11
TOL_TRAJECTORY = 1e-7


def compare_with_mujoco(path, nworld, seed):
    m = mujoco.MjModel.from_xml_path(path)
    model = sim_api.load(path)
    sim = sim_api.Batch(model, nworld=nworld, backend="cpu", dtype="float64", nthread=1)
    rng = np.random.default_rng(seed)
    ref = [mujoco.MjData(m) for _ in range(nworld)]
    for w, d in enumerate(ref):
        randomize(m, d, rng)
        sim.qpos[w] = d.qpos
        sim.qvel[w] = d.qvel
        sim.ctrl[w] = d.ctrl

    sim.forward()
    ncontacts = 0
    for w, d in enumerate(ref):
        mujoco.mj_forward(m, d)
        assert max_rel(sim.qacc[w], d.qacc) < TOL_QACC
        assert max_rel(sim.xpos[w], d.xpos) < TOL_KINEMATICS
        assert max_rel(sim.xquat[w], d.xquat) < TOL_KINEMATICS
        c = sim.contact[w]
        assert c.ncon == d.ncon == sim.ncon[w]
        ours = contact_set(c.geom, c.dist, c.pos, c.frame)
        theirs = contact_set(d.contact.geom.reshape(-1, 2), d.contact.dist, d.contact.pos, d.contact.frame)
        np.testing.assert_array_equal(ours[0], theirs[0])
        for a, b in zip(ours[1:], theirs[1:]):
            assert max_rel(a, b) < TOL_CONTACT
        ncontacts += d.ncon

    sim.step(nstep=100)
    for w, d in enumerate(ref):
        mujoco.mj_step(m, d, nstep=100)
        assert max_rel(sim.qpos[w], d.qpos) < TOL_TRAJECTORY
        assert max_rel(sim.qvel[w], d.qvel) < TOL_TRAJECTORY
        assert abs(sim.time[w] - d.time) < 1e-12
    assert sim.warnings["nan_reset"].sum() == 0
    return ncontacts


@pytest.mark.parametrize("path", [H1, HUMANOID], ids=["h1", "humanoid"])
def test_robots_match_mujoco(path):
    ncontacts = compare_with_mujoco(path, nworld=8, seed=3)
    assert ncontacts > 0  # random heights put some robots on the floor


def test_random_trees_match_mujoco(tree_paths):
    for t, path in enumerate(tree_paths):
        compare_with_mujoco(path, nworld=4, seed=100 + t)


def test_mujoco_backend_is_mujoco():
    m = mujoco.MjModel.from_xml_path(H1)
    sim = sim_api.Batch(sim_api.load(H1), nworld=2, backend="mujoco", dtype="float64", nthread=1)
    rng = np.random.default_rng(1)
    ref = [mujoco.MjData(m) for _ in range(2)]
    for w, d in enumerate(ref):
        randomize(m, d, rng)
        sim.qpos[w], sim.qvel[w], sim.ctrl[w] = d.qpos, d.qvel, d.ctrl
    sim.step(20)
    for w, d in enumerate(ref):
        mujoco.mj_step(m, d, nstep=20)
        np.testing.assert_array_equal(sim.qpos[w], d.qpos)


# ---------------------------------------------------------------------------------------------
# views, GIL, model fields


def test_views_are_zero_copy_and_typed():
    model = sim_api.load(HUMANOID)
    sim = sim_api.Batch(model, nworld=3, backend="cpu", dtype="float32", nthread=1)
    assert sim.qpos.shape == (3, model.nq) and sim.qpos.dtype == np.float32
    assert sim.xfrc_applied.shape == (3, model.nbody, 6)
    assert sim.xpos.shape == (3, model.nbody, 3) and sim.xquat.shape == (3, model.nbody, 4)
    assert sim.act.shape == (3, 0)
    assert sim.ncon.dtype == np.int32 and sim.time.shape == (3,)
    a, b = sim.qpos, sim.qpos
    assert a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
    a[1, 2] = 2.5
    assert sim.qpos[1, 2] == np.float32(2.5)
    sim.ctrl = np.full(model.nu, 0.25)  # a row broadcast to every world
    assert np.all(sim.ctrl == np.float32(0.25))
    for name in ["qacc", "xpos", "xquat", "ncon", "time", "subtree_com"]:
        with pytest.raises(ValueError):
            getattr(sim, name)[0] = 1  # read-only
    # a view outlives every other reference to its batch
    q = sim_api.Batch(model, nworld=2, backend="cpu", dtype="float64", nthread=1).qpos
    assert q.shape == (2, model.nq) and np.all(np.isfinite(q))


def test_step_releases_the_gil():
    model = sim_api.load(HUMANOID)
    sim = sim_api.Batch(model, nworld=64, backend="cpu", dtype="float64", nthread=1)
    t0 = time.perf_counter()
    sim.step(20)
    per_step = (time.perf_counter() - t0) / 20
    nstep = max(20, int(0.4 / per_step))  # a call of about 0.4 s
    started = threading.Event()

    def work():
        started.set()
        sim.step(nstep)

    th = threading.Thread(target=work)
    th.start()
    started.wait()
    gaps, last = [], time.perf_counter()
    t_start = last
    while th.is_alive():
        now = time.perf_counter()
        gaps.append(now - last)
        last = now
    duration = last - t_start
    th.join()
    # with the GIL held the main thread would stall for the whole call
    assert duration > 0.1
    assert max(gaps) < 0.5 * duration


def test_reset_and_model_fields_per_world():
    model = sim_api.load(HUMANOID)
    sim = sim_api.Batch(model, nworld=3, backend="cpu", dtype="float64", nthread=1)
    sim.step(5)
    sim.reset(worlds=[1])
    assert sim.time[1] == 0 and sim.time[0] > 0 and sim.time[2] > 0
    sim.reset()
    assert np.all(sim.time == 0)
    m = mujoco.MjModel.from_xml_path(HUMANOID)
    mass = np.stack([m.body_mass, 2 * m.body_mass, 3 * m.body_mass])
    sim.set_model_field("body_mass", mass)
    np.testing.assert_array_equal(sim.get_model_field("body_mass"), mass)
    sim.set_model_field("geom_friction", m.geom_friction * 0.5)  # (ngeom, 3): one row for all
    np.testing.assert_allclose(sim.get_model_field("geom_friction")[2], (m.geom_friction * 0.5).ravel())
    sim.ctrl[:, 0] = 1.0
    sim.forward()
    assert abs(sim.qacc[0, 6] - sim.qacc[2, 6]) > 1e-3


def test_warnings_and_contacts_layout():
    model = sim_api.load(HUMANOID)
    sim = sim_api.Batch(model, nworld=2, backend="cpu", dtype="float32", nthread=1)
    assert sim.warnings.shape == (2,)
    assert set(sim.warnings.dtype.names) == {"contact_overflow", "constraint_overflow", "nan_reset"}
    sim.forward()
    assert len(sim.contact) == 2
    cap = sim.contact_capacity
    assert sim.contact.pos.shape == (2, cap, 3) and sim.contact.frame.shape == (2, cap, 3, 3)
    c = sim.contact[-1]
    assert c.pos.shape == (c.ncon, 3) and c.geom.shape == (c.ncon, 2) and c.dist.shape == (c.ncon,)


# ---------------------------------------------------------------------------------------------
# bad input: a clear exception, never a crash


def test_load_errors(tmp_path):
    with pytest.raises(ValueError, match="no such MJCF file"):
        sim_api.load(str(tmp_path / "missing.xml"))
    bad = tmp_path / "bad.xml"
    bad.write_text("<mujoco><worldbody><body>")
    with pytest.raises(ValueError):
        sim_api.load(str(bad))
    unsupported = tmp_path / "unsupported.xml"
    unsupported.write_text(
        "<mujoco><worldbody><body><joint name='a'/><geom size='0.1'/><body pos='0 0 -0.3'>"
        "<joint name='b'/><geom size='0.1'/></body></body></worldbody>"
        "<tendon><fixed name='t'><joint joint='a' coef='1'/><joint joint='b' coef='1'/></fixed></tendon>"
        "<actuator><general joint='a' dyntype='filter'/></actuator></mujoco>"
    )
    with pytest.raises(ValueError, match="tendons") as e:
        sim_api.load(str(unsupported))
    assert "actuator dynamics" in str(e.value)
    assert any("tendons" in f for f in sim_api.unsupported_features(str(unsupported)))
    assert sim_api.unsupported_features(HUMANOID) == []


def test_batch_errors():
    model = sim_api.load(HUMANOID)
    with pytest.raises(ValueError, match="unknown backend"):
        sim_api.Batch(model, nworld=2, backend="tpu")
    with pytest.raises(ValueError, match="unknown dtype"):
        sim_api.Batch(model, nworld=2, dtype="float16")
    with pytest.raises(ValueError, match="float64 only"):
        sim_api.Batch(model, nworld=2, backend="mujoco", dtype="float32")
    with pytest.raises(ValueError):
        sim_api.Batch(model, nworld=0)
    with pytest.raises(TypeError):
        sim_api.Batch("robot.xml", nworld=2)


def test_cuda_without_a_device_is_a_clear_error():
    model = sim_api.load(HUMANOID)
    try:
        sim = sim_api.Batch(model, nworld=2, backend="cuda", dtype="float32")
    except RuntimeError as e:
        assert "no CUDA device" in str(e) or "no CUDA support" in str(e)
    else:  # a machine with a GPU
        assert sim.backend == "cuda"


def test_cuda_batch_has_device_arrays_and_matches_cpu():
    """On a GPU: the arrays are device arrays (__cuda_array_interface__, DLPack), writes go up
    through `sim.qpos[...] = ...`, and forward/step agree with the CPU backend in float64."""
    model = sim_api.load(H1)
    try:
        gpu = sim_api.Batch(model, nworld=5, backend="cuda", dtype="float64")
    except RuntimeError as e:
        pytest.skip(f"no usable CUDA device: {e}")
    cpu = sim_api.Batch(model, nworld=5, backend="cpu", dtype="float64", nthread=1)
    assert isinstance(gpu.qpos, sim_api.CudaArray)
    cai = gpu.qpos.__cuda_array_interface__
    assert cai["shape"] == (5, model.nq) and cai["typestr"] == "<f8" and cai["version"] == 3
    assert cai["data"][1] is False and gpu.qacc.__cuda_array_interface__["data"][1] is True
    assert gpu.qpos.__dlpack_device__()[0] == 2  # kDLCUDA
    rng = np.random.default_rng(3)
    q = np.asarray(cpu.qpos).copy()
    q[:, 7:] += 0.1 * rng.standard_normal((5, model.nq - 7))
    for b in (gpu, cpu):
        b.qpos[:] = q
        b.ctrl[:, 0] = 0.3
        b.forward()
    np.testing.assert_array_equal(gpu.qpos.numpy(), q)
    assert max_rel(gpu.qacc.numpy(), cpu.qacc) < 1e-8
    np.testing.assert_array_equal(np.asarray(gpu.ncon), cpu.ncon)
    for b in (gpu, cpu):
        b.step(nstep=100)
    assert max_rel(gpu.qpos.numpy(), cpu.qpos) < 1e-6
    with pytest.raises(ValueError, match="read-only"):
        gpu.qacc[:] = 0


def test_input_errors():
    model = sim_api.load(HUMANOID)
    sim = sim_api.Batch(model, nworld=3, backend="cpu", dtype="float64", nthread=1)
    with pytest.raises(ValueError, match="qpos"):
        sim.qpos = np.zeros((2, model.nq))
    with pytest.raises(TypeError, match="qvel"):
        sim.qvel = np.array([["a"] * model.nv] * 3)
    with pytest.raises(TypeError):
        sim.ctrl = np.zeros((3, model.nu), dtype=np.complex128)
    with pytest.raises(IndexError):
        sim.reset(worlds=[0, 3])
    with pytest.raises(IndexError):
        sim.reset(worlds=[-1])
    with pytest.raises(IndexError):
        sim.contact[3]
    with pytest.raises(ValueError):
        sim.step(nstep=-1)
    with pytest.raises(ValueError, match="unknown"):
        sim.set_model_field("geom_frobnication", [1.0])
    with pytest.raises(ValueError, match="expected"):
        sim.set_model_field("geom_friction", np.ones(5))
    with pytest.raises(TypeError):
        sim.set_model_field("geom_friction", np.array(["x"] * 3 * model.ngeom))
    with pytest.raises(ValueError, match="unknown"):
        sim.get_model_field("nope")
    # nothing above changed the state
    sim.forward()
    assert np.all(np.isfinite(sim.qacc))
