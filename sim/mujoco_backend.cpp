// sim/mujoco_backend.cpp — the MuJoCo reference backend over mujoco/mjbatch.h (see the header
// for how calls, outputs and failures map onto the batch).
#include "sim/mujoco_backend.h"

#include <mujoco/mjbatch.h>
#include <mujoco/mjxmacro.h>
#include <mujoco/mujoco.h>
#include <sched.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <thread>
#include <type_traits>

namespace stampede::sim {
namespace {

// CPUs this process may run on (a container may allow fewer than the machine has)
int available_cpus() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  unsigned n = std::thread::hardware_concurrency();
  return n > 0 ? static_cast<int>(n) : 1;
}

// element type of an mjModel array field or an mjOption field ("opt.<name>")
struct FieldType {
  bool known = false;     // the name is a field
  bool is_double = false; // its elements are mjtNum
  const char* type = "";  // C type name, for messages
};

template <class T>
FieldType field_type_of(const char* type_name) {
  return FieldType{true, std::is_same_v<T, mjtNum>, type_name};
}

FieldType model_field_type(const std::string& name) {
#define X(type, field, nr, nc) \
  if (name == #field) return field_type_of<type>(#type);
#define XNV X
  MJMODEL_POINTERS
#undef XNV
#undef X
  if (name.rfind("opt.", 0) == 0) {
    const std::string opt = name.substr(4);
#define X(type, field, n) \
  if (opt == #field) return field_type_of<type>(#type);
#define XVEC X
    MJOPTION_FIELDS
#undef XVEC
#undef X
  }
  return FieldType{};
}

// cache budget per thread for one block of worlds in step(): the mjData (buffer, used arena and
// stack) a thread steps should still be in its cache (L2-sized) for the contact and position
// passes. Measured on 256 humanoids, 1 thread, CPU time over mjb_step: one pass over all worlds
// +22%, blocks of 64 +12%, blocks of 8-32 +6-7%.
constexpr double kBlockBytesPerThread = 1.0 * (1 << 20);

// mjb_apply function: bytes of mjData a step touches (buffer + peak arena and stack use)
void data_footprint(const mjModel*, mjData* d, int, void* out) {
  *static_cast<double*>(out) = double(d->nbuffer) + double(d->maxuse_arena) +
                               double(d->maxuse_stack);
}

bool all_finite(const double* v, int n) {
  for (int i = 0; i < n; ++i) {
    if (!std::isfinite(v[i])) return false;
  }
  return true;
}

}  // namespace

MujocoBackend::MujocoBackend(const mjModel* m, int nworld, int nthread, int contact_capacity)
    : nworld_(nworld), contact_capacity_(contact_capacity) {
  if (!m) throw std::invalid_argument("MujocoBackend: the model is null");
  if (nworld < 1) {
    throw std::invalid_argument("MujocoBackend: nworld is " + std::to_string(nworld) +
                                ", expected >= 1");
  }
  if (contact_capacity < 0) {
    throw std::invalid_argument("MujocoBackend: contact_capacity is " +
                                std::to_string(contact_capacity) + ", expected >= 0");
  }

  // our own copy of the model, then a persistent batch over it
  model_ = mj_copyModel(nullptr, m);
  if (!model_) throw std::runtime_error("MujocoBackend: mj_copyModel failed");
  mjBatchConfig config;
  mjb_defaultConfig(&config);
  config.nthread = nthread > 0 ? nthread : available_cpus();
  config.persistent = 1;
  char error[1000] = "";
  batch_ = mjb_makeBatch(model_, nworld, &config, error, sizeof(error));
  if (!batch_) {
    mj_deleteModel(model_);
    model_ = nullptr;
    throw std::runtime_error(std::string("MujocoBackend: mjb_makeBatch failed: ") + error);
  }
  nstate_ = mjb_nstate(batch_);

  // contiguous mirrors of the state-row components the interface exposes
  const mjtNum* row0 = mjb_state(batch_);
  const std::pair<int, std::vector<double>*> components[] = {
      {mjSTATE_TIME, &time_},         {mjSTATE_QPOS, &qpos_},
      {mjSTATE_QVEL, &qvel_},         {mjSTATE_CTRL, &ctrl_},
      {mjSTATE_QFRC_APPLIED, &qfrc_applied_}, {mjSTATE_XFRC_APPLIED, &xfrc_applied_}};
  for (const auto& [bit, array] : components) {
    int size = 0;
    const mjtNum* first = mjb_stateComponent(batch_, bit, &size);
    array->assign(static_cast<size_t>(nworld) * size, 0.0);
    mirrors_.push_back(Mirror{array, static_cast<int>(first - row0), size});
  }

  // derived outputs, copied out by the batch after every call
  const std::pair<const char*, const double**> outputs[] = {
      {"qacc", &qacc_}, {"xpos", &xpos_}, {"xquat", &xquat_}, {"subtree_com", &subtree_com_}};
  for (const auto& [field, dst] : outputs) {
    *dst = static_cast<const double*>(mjb_output(batch_, field, nullptr, nullptr));
    if (!*dst) {
      mjb_deleteBatch(batch_);
      mj_deleteModel(model_);
      throw std::runtime_error(std::string("MujocoBackend: mjb_output refused '") + field + "'");
    }
  }

  // contact arrays and warning bookkeeping
  const size_t ncap = static_cast<size_t>(nworld) * contact_capacity;
  ncon_.assign(nworld, 0);
  con_geom_.assign(2 * ncap, -1);
  con_dist_.assign(ncap, 0.0);
  con_pos_.assign(3 * ncap, 0.0);
  con_frame_.assign(9 * ncap, 0.0);
  con_force_.assign(3 * ncap, 0.0);
  warnings_.assign(nworld, WorldWarnings{});
  seen_contactfull_.assign(nworld, 0);
  seen_cnstrfull_.assign(nworld, 0);
  bad_.assign(nworld, 0);
  reset_scratch_.reserve(nworld);

  // every world at qpos0 with all outputs current
  all_ids_.resize(nworld);
  for (int w = 0; w < nworld; ++w) all_ids_[w] = w;
  reset_ids(all_ids_);
  block_ = automatic_block_size();
}

MujocoBackend::~MujocoBackend() {
  mjb_deleteBatch(batch_);
  mj_deleteModel(model_);
}

int MujocoBackend::nthread() const { return mjb_nthread(batch_); }

void MujocoBackend::set_block_size(int worlds) {
  block_ = worlds > 0 ? std::min(worlds, nworld_) : automatic_block_size();
}

int MujocoBackend::automatic_block_size() {
  // contact-rich states use more arena than the reset state measured here: 1.5x margin
  double bytes = 0;
  const int first = 0;
  mjb_apply(batch_, &first, 1, &data_footprint, &bytes, /*save=*/0);
  const int per_thread = std::max(1, static_cast<int>(kBlockBytesPerThread / (1.5 * bytes + 1)));
  return std::clamp(per_thread * nthread(), 1, nworld_);
}

void MujocoBackend::forward() {
  push_inputs();
  std::fill(bad_.begin(), bad_.end(), 0);
  mjb_forward(batch_, nullptr, 0, mjSTAGE_ACC);
  note_failures(all_ids_.data(), nworld_);
  collect_contacts(nullptr, 0);
  pull_state({});
  contain_failures();
}

void MujocoBackend::step(int nstep) {
  if (nstep < 1) return;
  push_inputs();
  std::fill(bad_.begin(), bad_.end(), 0);
  for (int start = 0; start < nworld_; start += block_) {
    const int n = std::min(block_, nworld_ - start);
    const int* ids = all_ids_.data() + start;
    const int* select = n == nworld_ ? nullptr : ids;  // nullptr: all worlds

    // integrate; the mjData then hold the last substep's contacts and constraint forces
    mjb_step(batch_, select, n, nstep, mjSTAGE_NONE);
    note_failures(ids, n);
    collect_contacts(select, n);

    // positions and velocities at the new state (the next step continues from them)
    mjb_forward(batch_, select, n, mjSTAGE_VEL);
    note_failures(ids, n);
  }
  pull_state({});
  contain_failures();
}

void MujocoBackend::reset(const int* worlds, int n) {
  if (!worlds) {
    reset_ids(all_ids_);
    return;
  }
  if (n < 0) throw std::invalid_argument("MujocoBackend::reset: n is negative");
  std::vector<int> ids(worlds, worlds + n);
  for (int w : ids) {
    if (w < 0 || w >= nworld_) {
      throw std::invalid_argument("MujocoBackend::reset: world " + std::to_string(w) +
                                  " is out of range [0, " + std::to_string(nworld_) + ")");
    }
  }
  std::sort(ids.begin(), ids.end());  // mjbatch wants sorted, unique ids
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  if (!ids.empty()) reset_ids(ids);
}

double* MujocoBackend::model_field(const std::string& name, int* size) {
  const FieldType type = model_field_type(name);
  if (!type.known) {
    throw std::invalid_argument("MujocoBackend::model_field: unknown model field '" + name +
                                "' (expected an mjModel array such as geom_friction or "
                                "body_mass, or opt.<name> such as opt.gravity)");
  }
  if (!type.is_double) {
    throw std::invalid_argument("MujocoBackend::model_field: model field '" + name + "' holds " +
                                type.type + " values; only mjtNum (double) fields can be "
                                "randomized per world");
  }
  int field_size = 0, elemsize = 0;
  void* storage = mjb_expand(batch_, name.c_str(), &field_size, &elemsize);
  if (!storage || elemsize != static_cast<int>(sizeof(double))) {
    throw std::invalid_argument("MujocoBackend::model_field: MuJoCo cannot make model field '" +
                                name + "' per-world (asset fields are shared by all worlds)");
  }
  if (size) *size = field_size;
  return static_cast<double*>(storage);
}

void MujocoBackend::push_inputs() {
  mjtNum* rows = mjb_state(batch_);
  for (int w = 0; w < nworld_; ++w) {
    mjtNum* row = rows + static_cast<size_t>(w) * nstate_;
    for (const Mirror& c : mirrors_) {
      std::memcpy(row + c.offset, c.array->data() + static_cast<size_t>(w) * c.size,
                  sizeof(double) * c.size);
    }
  }
}

void MujocoBackend::pull_state(const std::vector<int>& worlds) {
  const mjtNum* rows = mjb_state(batch_);
  const int n = worlds.empty() ? nworld_ : static_cast<int>(worlds.size());
  for (int i = 0; i < n; ++i) {
    const int w = worlds.empty() ? i : worlds[i];
    const mjtNum* row = rows + static_cast<size_t>(w) * nstate_;
    for (const Mirror& c : mirrors_) {
      std::memcpy(c.array->data() + static_cast<size_t>(w) * c.size, row + c.offset,
                  sizeof(double) * c.size);
    }
  }
}

void MujocoBackend::copy_contacts(const mjModel* m, mjData* d, int world, void* self) {
  MujocoBackend* b = static_cast<MujocoBackend*>(self);
  const int cap = b->contact_capacity_;
  const int keep = std::min(static_cast<int>(d->ncon), cap);
  if (d->ncon > cap) b->warnings_[world].contact_overflow++;
  b->ncon_[world] = keep;
  const size_t base = static_cast<size_t>(world) * cap;
  for (int i = 0; i < keep; ++i) {
    const mjContact& c = d->contact[i];
    const size_t k = base + i;
    b->con_geom_[2 * k] = c.geom[0];
    b->con_geom_[2 * k + 1] = c.geom[1];
    b->con_dist_[k] = c.dist;
    std::memcpy(&b->con_pos_[3 * k], c.pos, sizeof(double) * 3);
    std::memcpy(&b->con_frame_[9 * k], c.frame, sizeof(double) * 9);
    mjtNum force[6];
    mj_contactForce(m, d, i, force);
    std::memcpy(&b->con_force_[3 * k], force, sizeof(double) * 3);
  }
}

void MujocoBackend::collect_contacts(const int* ids, int nid) {
  mjb_apply(batch_, ids, nid, &MujocoBackend::copy_contacts, this, /*save=*/0);
}

void MujocoBackend::note_failures(const int* ids, int nid) {
  const int* status = mjb_status(batch_);
  for (int i = 0; i < nid; ++i) {
    if (status[ids[i]]) bad_[ids[i]] = 1;
  }
}

void MujocoBackend::contain_failures() {
  const mjWarningStat* warning = mjb_warning(batch_);
  std::vector<int>& ids = reset_scratch_;
  ids.clear();
  for (int w = 0; w < nworld_; ++w) {
    const mjWarningStat* ws = warning + static_cast<size_t>(w) * mjNWARNING;

    // MuJoCo's arena warnings: count the new ones
    if (ws[mjWARN_CONTACTFULL].number > seen_contactfull_[w]) warnings_[w].contact_overflow++;
    if (ws[mjWARN_CNSTRFULL].number > seen_cnstrfull_[w]) warnings_[w].constraint_overflow++;
    seen_contactfull_[w] = ws[mjWARN_CONTACTFULL].number;
    seen_cnstrfull_[w] = ws[mjWARN_CNSTRFULL].number;

    // bad numbers: MuJoCo's warnings, or non-finite time, state or acceleration
    if (ws[mjWARN_BADQPOS].number || ws[mjWARN_BADQVEL].number || ws[mjWARN_BADQACC].number ||
        ws[mjWARN_BADCTRL].number) {
      bad_[w] = 1;
    }
    const mjModel* m = model_;
    if (!std::isfinite(time_[w]) ||
        !all_finite(qpos_.data() + static_cast<size_t>(w) * m->nq, m->nq) ||
        !all_finite(qvel_.data() + static_cast<size_t>(w) * m->nv, m->nv) ||
        !all_finite(qacc_ + static_cast<size_t>(w) * m->nv, m->nv)) {
      bad_[w] = 1;
    }
    if (bad_[w]) {
      warnings_[w].nan_reset++;
      ids.push_back(w);
    }
  }
  if (!ids.empty()) reset_ids(ids);
}

void MujocoBackend::reset_ids(const std::vector<int>& ids) {
  const int nid = static_cast<int>(ids.size());
  mjb_reset(batch_, ids.data(), nid, /*key=*/nullptr, mjSTAGE_ACC);

  // a reset world starts with clean bad-number counters (counted ones stay in warnings_)
  mjWarningStat* warning = mjb_warning(batch_);
  for (int w : ids) {
    mjWarningStat* ws = warning + static_cast<size_t>(w) * mjNWARNING;
    for (int k : {mjWARN_BADQPOS, mjWARN_BADQVEL, mjWARN_BADQACC, mjWARN_BADCTRL}) {
      ws[k].number = 0;
    }
    seen_contactfull_[w] = ws[mjWARN_CONTACTFULL].number;
    seen_cnstrfull_[w] = ws[mjWARN_CNSTRFULL].number;
  }
  collect_contacts(ids.data(), nid);
  pull_state(ids);
}

std::unique_ptr<Backend<double>> make_mujoco_backend(const mjModel* m, int nworld, int nthread,
                                                     int contact_capacity) {
  return std::make_unique<MujocoBackend>(m, nworld, nthread, contact_capacity);
}

}  // namespace stampede::sim
