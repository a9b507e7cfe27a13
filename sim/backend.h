// sim/backend.h — the one batched-simulation interface every backend implements
// (MuJoCo reference, CPU kernels, CUDA kernels), so a test, a task or a benchmark changes
// engine with one argument.
//
// Conventions
// - All arrays are world-major host arrays: field `f` of world `w` starts at `f() + w * size`.
//   On the CUDA backend they are host mirrors, synchronized by the calls below.
// - Inputs (qpos, qvel, ctrl, qfrc_applied, xfrc_applied) may be written between calls.
// - After forward(), step() or reset(), the outputs describe the *current* state: positions and
//   velocities are evaluated at the new qpos/qvel (MuJoCo's mjSTAGE_VEL after a step);
//   qacc is the acceleration used by the last integration (after forward(): at this state).
// - Nothing here throws inside a step. Per-world failures (NaN, overflow) are counted in
//   warnings() and the world is reset.
#pragma once

#include <memory>
#include <string>
#include <vector>

struct mjModel_;
typedef struct mjModel_ mjModel;

namespace stampede::sim {

// per-world warning counters, cumulative since construction
struct WorldWarnings {
  int contact_overflow = 0;     // steps in which contacts beyond contact_capacity were found
  int constraint_overflow = 0;  // steps in which constraint rows beyond capacity were needed
  int nan_reset = 0;            // times the world's state turned NaN/Inf or qacc exploded and was reset
};

template <class Real>
class Backend {
 public:
  virtual ~Backend() = default;

  // identity and sizes
  virtual std::string name() const = 0;       // "mujoco", "cpu" or "cuda"
  virtual const mjModel* mj_model() const = 0; // MuJoCo's compiled source model (names, ids, sizes)
  virtual int nworld() const = 0;
  virtual int contact_capacity() const = 0;   // contacts kept per world

  // inputs (writable, world-major)
  virtual Real* qpos() = 0;          // (nworld, nq)       generalized positions
  virtual Real* qvel() = 0;          // (nworld, nv)       generalized velocities
  virtual Real* ctrl() = 0;          // (nworld, nu)       actuator controls
  virtual Real* qfrc_applied() = 0;  // (nworld, nv)       applied generalized force
  virtual Real* xfrc_applied() = 0;  // (nworld, nbody, 6) applied Cartesian force, torque (world frame)
  virtual Real* time() = 0;          // (nworld)           simulation time (s)

  // outputs (read-only, world-major)
  virtual const Real* qacc() const = 0;      // (nworld, nv)       acceleration
  virtual const Real* xpos() const = 0;      // (nworld, nbody, 3) body frame position
  virtual const Real* xquat() const = 0;     // (nworld, nbody, 4) body frame orientation (w, x, y, z)
  virtual const Real* subtree_com() const = 0; // (nworld, nbody, 3) subtree centre of mass
  virtual const int* ncon() const = 0;       // (nworld)           contacts found (<= contact_capacity)
  // contacts, (nworld, contact_capacity, ...), the first ncon[w] valid
  virtual const int* con_geom() const = 0;   // (.., 2)  geom ids
  virtual const Real* con_dist() const = 0;  // (..)     signed distance (negative: penetration)
  virtual const Real* con_pos() const = 0;   // (.., 3)  contact point, world frame
  virtual const Real* con_frame() const = 0; // (.., 9)  contact frame, normal first (rows)
  virtual const Real* con_force() const = 0; // (.., 3)  contact force in the contact frame (normal, t1, t2), N
  virtual const WorldWarnings* warnings() const = 0;  // (nworld)

  // computation
  virtual void forward() = 0;                 // like mj_forward on every world
  virtual void step(int nstep) = 0;           // nstep mj_step on every world, then positions/velocities
  virtual void reset(const int* worlds, int n) = 0;  // back to qpos0, qvel 0, time 0 (worlds==nullptr: all)

  // per-world model fields for domain randomization: returns the (nworld, size) array of a model
  // field (MuJoCo's name: "geom_friction", "body_mass", "dof_damping", ...), expanding it on the
  // first call; writes take effect at the next call. Throws std::invalid_argument on an unknown field.
  virtual Real* model_field(const std::string& name, int* size = nullptr) = 0;
};

}  // namespace stampede::sim
