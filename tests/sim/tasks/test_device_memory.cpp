// tests/sim/tasks/test_device_memory.cpp — the GPU env's and the CUDA learner's code over memory
// the host cannot touch outside the spaces' own calls (tests/guarded_space.h), as on a GPU:
// training through the runner's device loop, the host-array API, checkpoints and the
// statistics never read their arrays in place, and give what the same code gives over plain
// host memory, bit for bit. A host read of such an array would fault here, where on a GPU it
// would crash (or read garbage) only when one is lent.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "rl/ppo_device.inl"
#include "rl/runner.h"
#include "sim/make_backend.h"
#include "sim/tasks/locomotion_device_env.inl"
#include "sim/tasks/make_env.h"
#include "task_fixture.h"
#include "tests/guarded_space.h"
#include "tests/rl/learner_fixture.h"

using namespace stampede;
using test::GuardedLearnSpace;
using test::GuardedMemory;
using test::GuardedSpace;

template class stampede::sim::tasks::DeviceLocomotionEnv<float, GuardedSpace<float>>;
template class stampede::rl::DevicePpoLearner<GuardedLearnSpace>;

namespace {

struct H1 {
  robot::RobotSpec spec = robot::load_robot(std::string(STAMPEDE_ASSETS_DIR) + "/h1/robot.yaml");
  test::ModelPtr model{test::load_model(spec.mjcf)};
};

// a fault on guarded memory names itself before the process dies (the test then fails on the
// signal, not silently)
void on_fault(int, siginfo_t* info, void*) {
  char msg[160];
  const int n = snprintf(msg, sizeof(msg),
                         "\nhost access to guarded (device) memory at %p outside the space's calls\n", info->si_addr);
  if (n > 0) (void)!write(2, msg, static_cast<std::size_t>(n));
  signal(SIGSEGV, SIG_DFL);
  raise(SIGSEGV);
}

struct FaultReport {
  FaultReport() {
    struct sigaction sa {};
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_RESETHAND;
    sigaction(SIGSEGV, &sa, nullptr);
  }
};

}  // namespace

TEST_CASE("guarded memory: the host faults on it outside a space's calls, and reaches it inside", "[tasks][device]") {
  GuardedLearnSpace space;
  float* p = static_cast<float*>(GuardedLearnSpace::allocate(64 * sizeof(float)));
  const float in[2] = {1.5f, -2.f};
  space.to_space(p + 10, in, sizeof(in));
  float out[2] = {0, 0};
  space.to_host(out, p + 10, sizeof(out));
  CHECK(out[0] == 1.5f);
  CHECK(out[1] == -2.f);
  space.launch(64, [&](long i) { p[i] += 1.f; });
  space.to_host(out, p + 10, sizeof(out));
  CHECK(out[0] == 2.5f);
  // a direct read, as host code holding a device pointer would do: the child dies of it
  std::fflush(nullptr);
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    signal(SIGSEGV, SIG_DFL);  // die of it (Catch2's handler would report it as a failure)
    volatile float x = p[10];
    (void)x;
    _exit(0);
  }
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGSEGV);
  GuardedLearnSpace::release(p);
}

TEST_CASE("the device loop over guarded memory trains what it trains over host memory, bit for bit", "[tasks][device][rl]") {
  // `stampede train --device cuda`: the GPU env and the CUDA learner in one memory space, the
  // rollout on their device API; then the learner's state out (checkpoint) and back in, and the
  // env through its host-array API
  FaultReport report;
  H1 h1;
  auto cfg = sim::tasks::find_task_config("h1-walk");
  cfg.episode_length = 0.3;  // time-outs inside every rollout, besides the falls
  const int n = 16;
  const uint64_t seed = 4;
  rl::PpoConfig pc = rl::testing::small_config(n, 1, 2);
  pc.runner.max_iterations = 2;
  using GuardedEnv = sim::tasks::DeviceLocomotionEnv<float, GuardedSpace<float>>;
  using HostEnv = sim::tasks::DeviceLocomotionEnv<float, sim::tasks::HostSpace<float>>;
  auto guarded_env = std::make_unique<GuardedEnv>(
      GuardedSpace<float>(sim::make_backend<float>("cpu", h1.model.get(), n, 1)), h1.spec, cfg, seed);
  auto host_env = std::make_unique<HostEnv>(
      sim::tasks::HostSpace<float>(sim::make_backend<float>("cpu", h1.model.get(), n, 1)), h1.spec, cfg, seed);
  const int O = host_env->obs_dim(), A = host_env->act_dim();
  const long opens_before = GuardedMemory::opens();
  rl::OnPolicyRunner a(pc, std::move(guarded_env), "", nullptr,
                       std::make_unique<rl::DevicePpoLearner<GuardedLearnSpace>>(GuardedLearnSpace{}, pc, n, O, A));
  rl::OnPolicyRunner b(pc, std::move(host_env), "", nullptr, rl::make_host_space_learner(pc, n, O, A));
  REQUIRE(a.device_loop());
  REQUIRE(b.device_loop());
  CHECK(GuardedMemory::count() > 0);
  std::vector<rl::IterationStats> sa, sb;
  a.on_iteration = [&](const rl::IterationStats& s) { sa.push_back(s); };
  b.on_iteration = [&](const rl::IterationStats& s) { sb.push_back(s); };
  a.learn();
  b.learn();
  CHECK(GuardedMemory::opens() > opens_before);
  REQUIRE(sa.size() == 2);
  REQUIRE(sb.size() == 2);
  const rl::LearnerState la = a.learner().state(), lb = b.learner().state();
  CHECK(la.params == lb.params);
  CHECK(la.adam_exp_avg == lb.adam_exp_avg);
  CHECK(la.obs_mean == lb.obs_mean);
  CHECK(la.obs_var == lb.obs_var);
  for (int k = 0; k < 2; ++k) {
    CHECK(sa[k].mean_step_reward == sb[k].mean_step_reward);
    CHECK(sa[k].mean_episode_return == sb[k].mean_episode_return);
    CHECK(sa[k].mean_episode_length == sb[k].mean_episode_length);
    CHECK(sa[k].update.value_loss == sb[k].update.value_loss);
    CHECK(sa[k].step_stats == sb[k].step_stats);
  }
  // the learner's state out and in (what a checkpoint does), acting through host arrays, and
  // the env's host-array API (what the Python module and the host loop call)
  a.learner().load_state(lb);
  CHECK(a.learner().state().params == lb.params);
  std::vector<float> obs(static_cast<std::size_t>(n) * O), final_obs(obs.size()), act_a(static_cast<std::size_t>(n) * A),
      act_b(act_a.size()), rew(n);
  std::vector<unsigned char> term(n), trunc(n);
  a.env().reset(obs.data());
  a.learner().act_inference(obs.data(), act_a.data(), n);
  b.learner().act_inference(obs.data(), act_b.data(), n);
  CHECK(act_a == act_b);
  auto& env = dynamic_cast<sim::tasks::LocomotionVecEnv&>(a.env());
  env.seed(7);
  env.reset(obs.data());
  env.step(act_a.data(), obs.data(), rew.data(), term.data(), trunc.data(), final_obs.data());
  for (float r : rew) CHECK(std::isfinite(r));
  CHECK_FALSE(env.step_stats().empty());
  std::vector<float> terms(env.reward_term_names().size() * n);
  env.reward_terms_out(terms.data());
  for (float t : terms) CHECK(std::isfinite(t));
}
