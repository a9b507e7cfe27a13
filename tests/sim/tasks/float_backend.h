// tests/sim/tasks/float_backend.h — a Backend<float> over a Backend<double> (the MuJoCo reference):
// float mirrors of every array, copied across around each call. It lets the tests run the task's
// float instantiation (the one the kernel backends use) on real physics before those backends
// exist. The state is rounded to float at every call, as a float engine would hold it.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <mujoco/mujoco.h>

#include "sim/backend.h"

namespace stampede::test {

class FloatBackend final : public sim::Backend<float> {
 public:
  explicit FloatBackend(std::unique_ptr<sim::Backend<double>> inner) : in_(std::move(inner)) {
    const long n = in_->nworld();
    qpos_.resize(n * nq());
    qvel_.resize(n * nv());
    ctrl_.resize(n * nu());
    qfrc_.resize(n * nv());
    xfrc_.resize(n * nbody() * 6);
    time_.resize(n);
    pull_all();
  }

  std::string name() const override { return "float(" + in_->name() + ")"; }
  const mjModel* mj_model() const override { return in_->mj_model(); }
  int nworld() const override { return in_->nworld(); }
  int contact_capacity() const override { return in_->contact_capacity(); }

  float* qpos() override { return qpos_.data(); }
  float* qvel() override { return qvel_.data(); }
  float* ctrl() override { return ctrl_.data(); }
  float* qfrc_applied() override { return qfrc_.data(); }
  float* xfrc_applied() override { return xfrc_.data(); }
  float* time() override { return time_.data(); }

  const float* qacc() const override { return qacc_.data(); }
  const float* xpos() const override { return xpos_.data(); }
  const float* xquat() const override { return xquat_.data(); }
  const float* subtree_com() const override { return subtree_com_.data(); }
  const int* ncon() const override { return in_->ncon(); }
  const int* con_geom() const override { return in_->con_geom(); }
  const float* con_dist() const override { return con_dist_.data(); }
  const float* con_pos() const override { return con_pos_.data(); }
  const float* con_frame() const override { return con_frame_.data(); }
  const float* con_force() const override { return con_force_.data(); }
  const sim::WorldWarnings* warnings() const override { return in_->warnings(); }

  void forward() override {
    push_all();
    in_->forward();
    pull_all();
  }
  void step(int nstep) override {
    push_all();
    in_->step(nstep);
    pull_all();
  }
  void reset(const int* worlds, int n) override {
    push_all();
    in_->reset(worlds, n);
    pull_all();
  }
  float* model_field(const std::string& name, int* size) override {
    int s = 0;
    double* src = in_->model_field(name, &s);
    auto& f = fields_[name];
    if (f.empty()) f.assign(src, src + static_cast<long>(s) * nworld());
    if (size) *size = s;
    return f.data();
  }

 private:
  int nq() const { return static_cast<int>(mj_model()->nq); }
  int nv() const { return static_cast<int>(mj_model()->nv); }
  int nu() const { return static_cast<int>(mj_model()->nu); }
  int nbody() const { return static_cast<int>(mj_model()->nbody); }

  template <class A, class B>
  static void copy(const A* src, B* dst, long n) {
    for (long i = 0; i < n; ++i) dst[i] = static_cast<B>(src[i]);
  }
  void push_all() {
    const long n = nworld();
    copy(qpos_.data(), in_->qpos(), n * nq());
    copy(qvel_.data(), in_->qvel(), n * nv());
    copy(ctrl_.data(), in_->ctrl(), n * nu());
    copy(qfrc_.data(), in_->qfrc_applied(), n * nv());
    copy(xfrc_.data(), in_->xfrc_applied(), n * nbody() * 6);
    copy(time_.data(), in_->time(), n);
    for (auto& [name, f] : fields_) copy(f.data(), in_->model_field(name), static_cast<long>(f.size()));
  }
  void pull_all() {
    const long n = nworld(), cc = static_cast<long>(contact_capacity()) * n;
    copy(in_->qpos(), qpos_.data(), n * nq());
    copy(in_->qvel(), qvel_.data(), n * nv());
    copy(in_->ctrl(), ctrl_.data(), n * nu());
    copy(in_->time(), time_.data(), n);
    qacc_.resize(n * nv());
    copy(in_->qacc(), qacc_.data(), n * nv());
    xpos_.resize(n * nbody() * 3);
    copy(in_->xpos(), xpos_.data(), n * nbody() * 3);
    xquat_.resize(n * nbody() * 4);
    copy(in_->xquat(), xquat_.data(), n * nbody() * 4);
    subtree_com_.resize(n * nbody() * 3);
    copy(in_->subtree_com(), subtree_com_.data(), n * nbody() * 3);
    con_dist_.resize(cc);
    copy(in_->con_dist(), con_dist_.data(), cc);
    con_pos_.resize(cc * 3);
    copy(in_->con_pos(), con_pos_.data(), cc * 3);
    con_frame_.resize(cc * 9);
    copy(in_->con_frame(), con_frame_.data(), cc * 9);
    con_force_.resize(cc * 3);
    copy(in_->con_force(), con_force_.data(), cc * 3);
  }

  std::unique_ptr<sim::Backend<double>> in_;
  std::vector<float> qpos_, qvel_, ctrl_, qfrc_, xfrc_, time_;
  std::vector<float> qacc_, xpos_, xquat_, subtree_com_, con_dist_, con_pos_, con_frame_, con_force_;
  std::map<std::string, std::vector<float>> fields_;
};

}  // namespace stampede::test
