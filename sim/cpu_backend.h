// sim/cpu_backend.h — the batched simulator on the CPU: our kernels over worlds on a
// persistent thread pool, precision Real (float or double).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "kernels/launch.h"
#include "sim/backend.h"
#include "sim/data.h"
#include "sim/model.h"

namespace stampede::sim {

// per-world capacities a kernel backend is built with
struct Capacities {
  int contact_capacity = 64;  // contacts kept per world
  int efc_capacity = -1;      // constraint rows per world; -1: 4 per contact + njnt + nv
};

// refuse a model the kernels cannot simulate yet (constraints needed but not plugged in);
// throws std::runtime_error naming what to disable
template <class Real>
void check_simulatable(const ModelView<Real>& m, const std::string& backend);

// DataSizes for a model and capacities
template <class Real>
DataSizes data_sizes(const ModelView<Real>& m, int nworld, const Capacities& cap);

// read and clear the kernels' per-world warning bits into the cumulative counters
template <class Real>
void collect_warnings(const DataView<Real>& d, std::vector<WorldWarnings>& out);

template <class Real>
class CpuBackend : public Backend<Real> {
 public:
  // nthread <= 0: one thread per hardware thread. Throws UnsupportedModel (sim/compile.h) or
  // std::runtime_error when the model needs what is not simulated yet.
  CpuBackend(const mjModel* m, int nworld, int nthread = 0, Capacities cap = {});
  ~CpuBackend() override;

  std::string name() const override { return "cpu"; }
  const mjModel* mj_model() const override { return mj_; }
  int nworld() const override { return nworld_; }
  int contact_capacity() const override { return data_->sizes().contact_capacity; }

  Real* qpos() override { return d().qpos.data; }
  Real* qvel() override { return d().qvel.data; }
  Real* ctrl() override { return d().ctrl.data; }
  Real* qfrc_applied() override { return d().qfrc_applied.data; }
  Real* xfrc_applied() override { return d().xfrc_applied.data; }
  Real* time() override { return d().time.data; }

  const Real* qacc() const override { return d().qacc.data; }
  const Real* xpos() const override { return d().xpos.data; }
  const Real* xquat() const override { return d().xquat.data; }
  const Real* subtree_com() const override { return d().subtree_com.data; }
  const int* ncon() const override { return d().ncon.data; }
  const int* con_geom() const override { return d().contact_geom.data; }
  const Real* con_dist() const override { return d().contact_dist.data; }
  const Real* con_pos() const override { return d().contact_pos.data; }
  const Real* con_frame() const override { return d().contact_frame.data; }
  const Real* con_force() const override { return d().contact_force.data; }
  const WorldWarnings* warnings() const override { return warnings_.data(); }

  void forward() override;
  void step(int nstep) override;
  void reset(const int* worlds, int n) override;
  Real* model_field(const std::string& name, int* size = nullptr) override;

  // the kernels' view of everything, for tests and tasks that read more than the interface
  const Model<Real>& model() const { return model_; }
  const DataView<Real>& data() const { return data_->view(); }
  // lane order of the emulated team (tests); default forward
  void set_lane_order(kern::LaneOrder order, unsigned seed = 1) { exec_.lane_order = order; exec_.seed = seed; }

 private:
  const DataView<Real>& d() const { return data_->view(); }

  mjModel* mj_ = nullptr;  // our copy of the source model
  int nworld_;
  Model<Real> model_;
  std::unique_ptr<Data<Real>> data_;
  std::unique_ptr<kern::ThreadPool> pool_;
  kern::CpuExec exec_;
  std::vector<WorldWarnings> warnings_;
};

}  // namespace stampede::sim
