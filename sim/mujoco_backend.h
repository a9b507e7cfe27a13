// sim/mujoco_backend.h — the MuJoCo reference backend: MuJoCo 4's batched CPU engine
// (mujoco/mjbatch.h) behind the Backend interface. It is the oracle the kernel backends are
// tested against and the CPU speed bar they are benchmarked against.
//
// How it maps onto mjbatch
// - One persistent mjBatch (one mjData per world), so contacts and derived fields of every world
//   stay readable, and a step continues from the position/velocity stages computed at the end
//   of the previous step (mj_step2), which makes the new-state outputs free (after forward() or
//   reset(), which run mjSTAGE_ACC, the first step computes them again).
// - MuJoCo keeps each world's inputs in a state row (mj_getState order). The interface wants
//   contiguous world-major arrays, so the backend keeps its own arrays and copies them into the
//   rows before each call and out of them after it (1.6 KB each way per humanoid world, about
//   0.2 us, 0.5% of a step; benchmarks/README.md).
// - step(n): mjb_step(n, mjSTAGE_NONE), then an mjb_apply pass copies the contacts of the last
//   substep together with their solved forces, then mjb_forward(mjSTAGE_VEL) makes positions and
//   velocities current. So, as in MJX/MuJoCo Warp after a step, the contact arrays describe the
//   contacts that acted in the last integration (the state before the last substep), consistent
//   with qacc; xpos, xquat and subtree_com describe the new state.
//   Those three calls run on blocks of worlds small enough for their mjData to stay in cache
//   from one call to the next (one pass each over 256 humanoids costs about 15% more CPU time
//   than blocks of 16-32).
// - forward() and reset() run the whole of mj_forward, so there every output, contacts and their
//   forces included, describes the current state (reset: ctrl zero).
// - model_field() expands a model field with mjb_expand. Constants that mj_setConst derives from
//   it (body_invweight0, ...) keep the model's values, as in MJX/MuJoCo Warp randomization.
//
// Failure containment (nothing throws inside a call): after every call, a world counts a
// nan_reset and is reset to qpos0 when MuJoCo raised an error in it (mjb_status), when one of
// MuJoCo's bad-number warnings fired (mjWARN_BADQPOS, BADQVEL, BADQACC, BADCTRL; MuJoCo itself
// zeroes a bad ctrl and steps on, and resets on a bad qpos, qvel or qacc but then integrates
// from there), or when its time, qpos, qvel or qacc hold a non-finite number (mj_forward checks
// none of them). MuJoCo's own arena warnings count as overflows: mjWARN_CONTACTFULL in
// contact_overflow, mjWARN_CNSTRFULL in constraint_overflow.
// A world with more contacts than contact_capacity keeps the first contact_capacity of them
// (MuJoCo's order) and counts a contact_overflow.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "sim/backend.h"

struct mjBatch_;
typedef struct mjBatch_ mjBatch;
struct mjData_;
typedef struct mjData_ mjData;

namespace stampede::sim {

class MujocoBackend final : public Backend<double> {
 public:
  // copies m (mj_copyModel) and owns the copy; nthread <= 0: every CPU this process may use
  MujocoBackend(const mjModel* m, int nworld, int nthread = 0, int contact_capacity = 64);
  ~MujocoBackend() override;
  MujocoBackend(const MujocoBackend&) = delete;
  MujocoBackend& operator=(const MujocoBackend&) = delete;

  // identity and sizes
  std::string name() const override { return "mujoco"; }
  const mjModel* mj_model() const override { return model_; }
  int nworld() const override { return nworld_; }
  int contact_capacity() const override { return contact_capacity_; }
  int nthread() const;    // threads of the batch, the caller's included
  mjBatch* batch() { return batch_; }  // the underlying batch (tests, benchmarks)
  int block_size() const { return block_; }  // worlds per pass in step()
  void set_block_size(int worlds);           // <= 0: automatic (mjData footprint, threads)

  // inputs
  double* qpos() override { return qpos_.data(); }
  double* qvel() override { return qvel_.data(); }
  double* ctrl() override { return ctrl_.data(); }
  double* qfrc_applied() override { return qfrc_applied_.data(); }
  double* xfrc_applied() override { return xfrc_applied_.data(); }
  double* time() override { return time_.data(); }

  // outputs
  const double* qacc() const override { return qacc_; }
  const double* xpos() const override { return xpos_; }
  const double* xquat() const override { return xquat_; }
  const double* subtree_com() const override { return subtree_com_; }
  const int* ncon() const override { return ncon_.data(); }
  const int* con_geom() const override { return con_geom_.data(); }
  const double* con_dist() const override { return con_dist_.data(); }
  const double* con_pos() const override { return con_pos_.data(); }
  const double* con_frame() const override { return con_frame_.data(); }
  const double* con_force() const override { return con_force_.data(); }
  const WorldWarnings* warnings() const override { return warnings_.data(); }

  // computation
  void forward() override;
  void step(int nstep) override;
  void reset(const int* worlds, int n) override;
  double* model_field(const std::string& name, int* size = nullptr) override;

 private:
  // one state component (an mjtState bit) mirrored in a contiguous world-major array
  struct Mirror {
    std::vector<double>* array;  // our (nworld, size) array
    int offset;                  // offset of the component in a state row
    int size;                    // elements per world
  };

  void push_inputs();                                // our arrays -> state rows (all worlds)
  void pull_state(const std::vector<int>& worlds);   // state rows -> our arrays (empty: all)
  void collect_contacts(const int* ids, int nid);    // mjb_apply: contacts + forces -> our arrays
  void note_failures(const int* ids, int nid);      // mark worlds whose call failed (mjb_status)
  void contain_failures();                           // check warnings/finiteness, reset bad worlds
  int automatic_block_size();                        // worlds whose mjData fit kBlockBytes
  void reset_ids(const std::vector<int>& ids);       // mjb_reset(mjSTAGE_ACC) + contacts + rows

  static void copy_contacts(const mjModel* m, mjData* d, int world, void* self);

  mjModel* model_ = nullptr;   // our copy of the source model
  mjBatch* batch_ = nullptr;
  int nworld_ = 0;
  int contact_capacity_ = 0;
  int nstate_ = 0;             // doubles per state row
  int block_ = 1;              // worlds per pass in step()
  std::vector<int> all_ids_;   // 0 .. nworld-1

  // inputs, world-major
  std::vector<double> qpos_, qvel_, ctrl_, qfrc_applied_, xfrc_applied_, time_;
  std::vector<Mirror> mirrors_;

  // outputs: MuJoCo-owned (mjb_output storage, nworld x size), then our contact arrays
  const double* qacc_ = nullptr;
  const double* xpos_ = nullptr;
  const double* xquat_ = nullptr;
  const double* subtree_com_ = nullptr;
  std::vector<int> ncon_, con_geom_;
  std::vector<double> con_dist_, con_pos_, con_frame_, con_force_;
  std::vector<WorldWarnings> warnings_;
  std::vector<int> seen_contactfull_, seen_cnstrfull_;  // MuJoCo's counters already counted
  std::vector<char> bad_;                               // worlds to reset after this call
  std::vector<int> reset_scratch_;                      // their ids
};

// the reference backend as the generic interface; nthread 0 = every CPU this process may use
std::unique_ptr<Backend<double>> make_mujoco_backend(const mjModel* m, int nworld, int nthread = 0,
                                                     int contact_capacity = 64);

}  // namespace stampede::sim
