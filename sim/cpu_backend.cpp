// sim/cpu_backend.cpp
#include "sim/cpu_backend.h"

#include <mujoco/mujoco.h>

#include <stdexcept>

#include "kernels/smooth.h"
#include "sim/compile.h"

namespace stampede::sim {

template <class Real>
void check_simulatable(const ModelView<Real>& m, const std::string& backend) {
  if (kern::constraints_simulated() || !m.needs_constraints()) return;
  std::string what;
  if (m.has_contacts && !(m.opt.disableflags & kDsblContact)) what += " contacts (<flag contact=\"disable\"/>)";
  if (m.has_limits && !(m.opt.disableflags & kDsblLimit)) what += " joint limits (<flag limit=\"disable\"/>)";
  if (m.has_frictionloss && !(m.opt.disableflags & kDsblFrictionloss))
    what += " dof frictionloss (<flag frictionloss=\"disable\"/>)";
  throw std::runtime_error("the " + backend +
                           " backend does not simulate constraints yet; the model needs:" + what +
                           ". Disable them, or all constraints with <flag constraint=\"disable\"/>.");
}

template <class Real>
DataSizes data_sizes(const ModelView<Real>& m, int nworld, const Capacities& cap) {
  int efc = cap.efc_capacity >= 0 ? cap.efc_capacity : 4 * cap.contact_capacity + m.njnt + m.nv;
  return DataSizes::of(m, nworld, cap.contact_capacity, efc);
}

template <class Real>
void collect_warnings(const DataView<Real>& d, std::vector<WorldWarnings>& out) {
  static_assert(sizeof(WorldWarnings) == 3 * sizeof(int), "WorldWarnings: the three counters of fold_warning_flags");
  for (int w = 0; w < d.s.nworld; ++w) kern::fold_warning_flags(d.warning_flags.at(w)[0], &out[w].contact_overflow);
}

template <class Real>
CpuBackend<Real>::CpuBackend(const mjModel* m, int nworld, int nthread, Capacities cap)
    : nworld_(nworld) {
  if (nworld <= 0) throw std::invalid_argument("CpuBackend: nworld must be positive, got " + std::to_string(nworld));
  model_ = compile_model<Real>(m);
  check_simulatable(model_.view(), "cpu");
  mj_ = mj_copyModel(nullptr, m);
  data_ = std::make_unique<Data<Real>>(data_sizes(model_.view(), nworld, cap));
  int threads = nthread > 0 ? nthread : 0;
  pool_ = std::make_unique<kern::ThreadPool>(threads);
  exec_.pool = pool_.get();
  warnings_.assign(nworld, WorldWarnings{});
  reset(nullptr, 0);
}

template <class Real>
CpuBackend<Real>::~CpuBackend() {
  if (mj_) mj_deleteModel(mj_);
}

template <class Real>
void CpuBackend<Real>::forward() {
  kern::run_stage(kern::Stage::kForward, model_.view(), d(), exec_);
  collect_warnings(d(), warnings_);
}

template <class Real>
void CpuBackend<Real>::step(int nstep) {
  if (nstep <= 0) return;
  kern::step(model_.view(), d(), exec_, nstep);
  collect_warnings(d(), warnings_);
}

template <class Real>
void CpuBackend<Real>::reset(const int* worlds, int n) {
  kern::run_stage_worlds(kern::Stage::kReset, model_.view(), d(), exec_, worlds, worlds ? n : nworld_);
  for (int k = 0; k < (worlds ? n : nworld_); ++k) d().warning_flags.at(worlds ? worlds[k] : k)[0] = 0;
}

template <class Real>
Real* CpuBackend<Real>::model_field(const std::string& name, int* size) {
  PerWorld<Real>* f = model_.expand(name, nworld_);
  if (!f) {
    std::string known;
    for (const auto& n : Model<Real>::perworld_field_names()) known += " " + n;
    throw std::invalid_argument("unknown per-world model field '" + name + "'; known:" + known);
  }
  if (size) *size = f->size;
  return f->data;
}

template void check_simulatable<float>(const ModelView<float>&, const std::string&);
template void check_simulatable<double>(const ModelView<double>&, const std::string&);
template DataSizes data_sizes<float>(const ModelView<float>&, int, const Capacities&);
template DataSizes data_sizes<double>(const ModelView<double>&, int, const Capacities&);
template void collect_warnings<float>(const DataView<float>&, std::vector<WorldWarnings>&);
template void collect_warnings<double>(const DataView<double>&, std::vector<WorldWarnings>&);
template class CpuBackend<float>;
template class CpuBackend<double>;

}  // namespace stampede::sim
