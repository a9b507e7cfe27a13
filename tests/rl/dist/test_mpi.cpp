// tests/rl/dist/test_mpi.cpp — run under `mpirun -np 2` (ctest label `mpi`): the MPI transport
// (sums, broadcast, barrier), the data-parallel gradient (two ranks each holding half a minibatch
// average to the gradient of one rank holding all of it), the learner over two ranks (state
// taken from rank 0, parameters identical on every rank after updates on different data,
// observation statistics of the data of both ranks, a config mismatch refused on every rank) and
// the runner's device loop over two ranks against its host loop.
#include <catch2/catch.hpp>

#include <mujoco/mujoco.h>

#include <cmath>
#include <memory>

#include "rl/actor_critic.h"
#include "rl/dist/mpi_communicator.h"
#include "rl/learner.h"
#include "rl/normalizer.h"
#include "rl/runner.h"
#include "rl/tasks.h"
#include "sim/make_backend.h"
#include "sim/robot/robot.h"
#include "sim/tasks/locomotion_device_env.h"
#include "sim/tasks/locomotion_env.h"
#include "sim/tasks/make_env.h"
#include "tests/rl/learner_fixture.h"

using namespace stampede::rl;
using stampede::rl::dist::MpiCommunicator;

namespace {

// one communicator for the whole test program (MPI is initialized once); a short deadline, so a
// rank that fails a REQUIRE and skips a collective ends the job instead of hanging it
MpiCommunicator& world() {
  static MpiCommunicator comm(60.0, "test_mpi");
  return comm;
}

// rank 0's copy of v on every rank, and whether it equals this rank's
template <class T>
bool same_on_all_ranks(std::vector<T> v) {
  std::vector<T> root = v;
  world().broadcast(root.data(), root.size(), 0);
  double differ = root == v ? 0.0 : 1.0;
  world().allreduce_sum(&differ, 1);
  return differ == 0.0;
}

// a minibatch of n rows with fixed random contents (the same on every rank)
PpoBatch<float> random_batch(int n, int obs_dim, int act_dim, uint64_t seed) {
  Rng rng(seed);
  PpoBatch<float> b;
  auto fill = [&](auto& m, double scale, double offset) {
    for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = static_cast<float>(offset + scale * rng.normal());
  };
  b.obs.resize(n, obs_dim);
  b.actions.resize(n, act_dim);
  b.old_mu.resize(n, act_dim);
  b.old_sigma.resize(n, act_dim);
  b.old_log_prob.resize(n);
  b.old_values.resize(n);
  b.advantages.resize(n);
  b.returns.resize(n);
  fill(b.obs, 1.0, 0.0);
  fill(b.old_mu, 0.3, 0.0);
  b.old_sigma.setConstant(0.8f);
  fill(b.actions, 0.8, 0.0);
  b.actions += b.old_mu;
  for (int i = 0; i < n; ++i) {
    double lp = 0;
    for (int j = 0; j < act_dim; ++j) {
      const double z = (b.actions(i, j) - b.old_mu(i, j)) / 0.8;
      lp += -0.5 * z * z - std::log(0.8) - 0.5 * std::log(2 * M_PI);
    }
    b.old_log_prob[i] = static_cast<float>(lp);
  }
  fill(b.old_values, 0.5, 0.0);
  fill(b.advantages, 1.0, 0.0);
  fill(b.returns, 0.5, 0.2);
  return b;
}

// rows [lo, hi) of b
PpoBatch<float> rows(const PpoBatch<float>& b, int lo, int hi) {
  PpoBatch<float> r;
  const int n = hi - lo;
  r.obs = b.obs.middleRows(lo, n);
  r.actions = b.actions.middleRows(lo, n);
  r.old_mu = b.old_mu.middleRows(lo, n);
  r.old_sigma = b.old_sigma.middleRows(lo, n);
  r.old_log_prob = b.old_log_prob.segment(lo, n);
  r.old_values = b.old_values.segment(lo, n);
  r.advantages = b.advantages.segment(lo, n);
  r.returns = b.returns.segment(lo, n);
  return r;
}

}  // namespace

TEST_CASE("MPI sums, broadcasts and barriers across ranks", "[rl][dist][mpi]") {
  auto& c = world();
  REQUIRE(c.size() == 2);  // registered with mpirun -np 2
  const int r = c.rank();
  std::vector<float> f = {1.f + r, 0.5f * r, -3.f};
  std::vector<double> d(1000);
  for (std::size_t i = 0; i < d.size(); ++i) d[i] = static_cast<double>(i) * (r + 1);
  c.allreduce_sum(f.data(), f.size());
  c.allreduce_sum(d.data(), d.size());
  CHECK(f[0] == 3.f);
  CHECK(f[1] == 0.5f);
  CHECK(f[2] == -6.f);
  for (std::size_t i = 0; i < d.size(); ++i) REQUIRE(d[i] == 3.0 * static_cast<double>(i));
  int64_t token[2] = {r == 0 ? 1234567890123ll : 0, r == 0 ? -7 : 0};
  c.broadcast(token, 2, 0);
  CHECK(token[0] == 1234567890123ll);
  CHECK(token[1] == -7);
  std::vector<char> bytes(3, static_cast<char>('a' + r));
  c.broadcast(bytes.data(), bytes.size(), 1);
  CHECK(std::string(bytes.begin(), bytes.end()) == "bbb");
  c.barrier();
}

TEST_CASE("two ranks each holding half a minibatch average to the gradient of the whole minibatch", "[rl][dist][mpi]") {
  auto& c = world();
  PolicyConfig p;
  p.actor_hidden = {64, 32};
  p.critic_hidden = {64, 32};
  const int O = 12, A = 5, N = 512;
  const ActorCriticLayout L(O, A, p);
  std::vector<float> params(L.num_params());
  Rng rng(5);
  init_params(L, p.init_noise_std, rng, params.data());
  PpoLossCoefs coefs;
  // a minibatch of N rows, the same on both ranks; one rank's view of the whole of it
  const PpoBatch<float> all = random_batch(N, O, A, 42);
  std::vector<float> g_all(L.num_params()), g_half(L.num_params());
  ActorCriticWork<float> w;
  const PpoLossTerms t_all = loss_and_gradient(L, coefs, params.data(), all, g_all.data(), w);
  // rank r holds rows [r N/2, (r+1) N/2): its gradient, summed over ranks and divided by their
  // count, exactly as the learner averages (rl/ppo_cpu.cpp, average_over_ranks)
  const PpoBatch<float> half = rows(all, c.rank() * N / 2, (c.rank() + 1) * N / 2);
  PpoLossTerms t_half = loss_and_gradient(L, coefs, params.data(), half, g_half.data(), w);
  c.allreduce_sum(g_half.data(), g_half.size());
  for (float& g : g_half) g /= static_cast<float>(c.size());
  double terms[2] = {t_half.surrogate, t_half.value};
  c.allreduce_sum(terms, 2);
  CHECK(terms[0] / c.size() == Approx(t_all.surrogate).epsilon(1e-5));
  CHECK(terms[1] / c.size() == Approx(t_all.value).epsilon(1e-5));
  // float tolerance: the same per-row terms summed in another grouping (two partial sums of 256
  // rows instead of one of 512, then a halving); measured 3e-7 of the largest entry, which sets
  // the scale (single entries are sums of terms of both signs, so a relative bound per entry
  // would be meaningless where they cancel)
  double max_abs = 0, max_err = 0;
  for (std::size_t i = 0; i < g_all.size(); ++i) {
    max_abs = std::max(max_abs, std::abs(static_cast<double>(g_all[i])));
    max_err = std::max(max_err, std::abs(static_cast<double>(g_all[i]) - g_half[i]));
  }
  INFO("largest gradient entry " << max_abs << ", largest difference " << max_err);
  REQUIRE(max_abs > 1e-3);
  CHECK(max_err <= 1e-6 * max_abs);
  // and the halves really are different data: a rank's own gradient is not the average
  std::vector<float> g_own(L.num_params());
  loss_and_gradient(L, coefs, params.data(), half, g_own.data(), w);
  double own_err = 0;
  for (std::size_t i = 0; i < g_all.size(); ++i) own_err = std::max(own_err, std::abs(static_cast<double>(g_all[i]) - g_own[i]));
  CHECK(own_err > 100 * max_err);
}

TEST_CASE("the learner over two ranks keeps one policy trained on both ranks' data", "[rl][dist][mpi]") {
  // the CPU learner, and the CUDA learner's code over host memory (the same reductions through
  // the communicator's host buffers)
  const bool device_code = GENERATE(false, true);
  INFO((device_code ? "the CUDA learner's code (host space)" : "the CPU learner"));
  auto& c = world();
  PpoConfig cfg;
  cfg.policy.actor_hidden = {32, 32};
  cfg.policy.critic_hidden = {32, 32};
  cfg.runner.num_threads = 1;
  cfg.runner.seed = 3 + 100 * c.rank();  // different initial weights: rank 0's must win
  const int N = 64;
  auto env = make_env("point-reach", N, "cpu", 9 + c.rank());  // different data per rank
  const int O = env->obs_dim(), A = env->act_dim();
  auto learner = device_code ? make_host_space_learner(cfg, N, O, A) : make_learner(cfg, N, O, A);
  CHECK_FALSE(same_on_all_ranks(learner->state().params));
  learner->set_communicator(&c);
  REQUIRE(same_on_all_ranks(learner->state().params));
  const auto initial = learner->state().params;
  CHECK(learner->state().rng != std::array<uint64_t, 4>{});
  CHECK_FALSE(same_on_all_ranks(std::vector<uint64_t>(learner->state().rng.begin(), learner->state().rng.end())));

  // two iterations; the observations of both ranks go into one reference normalizer
  ObsNormalizer reference(O);
  std::vector<float> obs(static_cast<std::size_t>(N) * O), final_obs(obs.size()), act(static_cast<std::size_t>(N) * A),
      rew(N);
  std::vector<unsigned char> term(N), trunc(N);
  env->reset(obs.data());
  UpdateStats st;
  for (int it = 0; it < 2; ++it) {
    for (int t = 0; t < cfg.runner.num_steps_per_env; ++t) {
      std::vector<float> both(obs.size() * 2);
      std::copy(obs.begin(), obs.end(), both.begin() + c.rank() * obs.size());
      c.allreduce_sum(both.data(), both.size());  // each slot holds one rank's rows
      reference.update(both.data(), 2 * N);
      learner->act(obs.data(), act.data());
      env->step(act.data(), obs.data(), rew.data(), term.data(), trunc.data(), final_obs.data());
      learner->process_env_step(rew.data(), term.data(), trunc.data(), final_obs.data());
    }
    learner->compute_returns(obs.data());
    st = learner->update();
  }
  const LearnerState s = learner->state();
  // the ranks saw different data, yet hold one policy, optimizer and learning rate
  CHECK(same_on_all_ranks(s.params));
  CHECK(same_on_all_ranks(s.adam_exp_avg));
  CHECK(same_on_all_ranks(s.adam_exp_avg_sq));
  CHECK(same_on_all_ranks(std::vector<double>{s.learning_rate, st.kl, st.grad_norm, st.surrogate_loss}));
  CHECK(s.params != initial);
  // observation statistics of both ranks' data
  CHECK(same_on_all_ranks(s.obs_mean));
  CHECK(same_on_all_ranks(s.obs_var));
  CHECK(s.obs_count == reference.count());
  for (int j = 0; j < O; ++j) {
    CHECK(s.obs_mean[j] == Approx(reference.mean()[j]).epsilon(1e-9).margin(1e-12));
    CHECK(s.obs_var[j] == Approx(reference.var()[j]).epsilon(1e-9).margin(1e-12));
  }

  // a checkpoint's state loaded on every rank: rank 0's wins again, rank 1 samples on its own
  LearnerState other = s;
  for (float& x : other.params) x += 0.5f * c.rank();
  learner->load_state(other);
  CHECK(same_on_all_ranks(learner->state().params));
  CHECK(learner->state().params == (c.rank() == 0 ? other.params : learner->state().params));
  CHECK_FALSE(same_on_all_ranks(std::vector<uint64_t>(learner->state().rng.begin(), learner->state().rng.end())));
}

TEST_CASE("ranks configured differently are refused on every rank", "[rl][dist][mpi]") {
  auto& c = world();
  PpoConfig cfg;
  cfg.policy.actor_hidden = {8};
  cfg.policy.critic_hidden = {8};
  const int N = 16 + 16 * c.rank();  // rank 1 has twice the envs: minibatches of unequal size
  auto learner = make_learner(cfg, N, 4, 2);
  CHECK_THROWS_WITH(learner->set_communicator(&c), Catch::Contains("every rank must train with the same config"));
  c.barrier();
  auto device_code = make_host_space_learner(cfg, N, 4, 2);
  CHECK_THROWS_WITH(device_code->set_communicator(&c), Catch::Contains("every rank must train with the same config"));
  c.barrier();
}

TEST_CASE("the runner's device loop over two ranks trains what its host loop trains", "[rl][dist][mpi][device]") {
  // `mpirun -np K stampede train --device cuda --dist nccl`: on each rank the CUDA learner and
  // the GPU env share a memory space, so the rollout runs on their device API. Here that loop
  // runs their code over host memory (the host-space learner, DeviceLocomotionEnv<HostSpace>),
  // against the same learner on LocomotionEnv through host arrays, both over two ranks whose
  // worlds differ: one policy on every rank, the same first update to float rounding, and
  // episode statistics of both ranks' worlds.
  auto& c = world();
  namespace tasks = stampede::sim::tasks;
  const stampede::robot::RobotSpec spec = stampede::robot::load_robot(STAMPEDE_ASSETS_DIR "/h1/robot.yaml");
  char err[1000] = "";
  std::unique_ptr<mjModel, void (*)(mjModel*)> model(mj_loadXML(spec.mjcf.c_str(), nullptr, err, sizeof(err)),
                                                     mj_deleteModel);
  REQUIRE(model);
  auto task = tasks::find_task_config("h1-walk");
  task.episode_length = 0.3;  // time-outs inside every rollout, besides the falls
  const int n = 8;
  const uint64_t seed = 4 + 10 * c.rank();  // different worlds on each rank
  PpoConfig pc = testing::small_config(n, 1, 2);
  pc.runner.max_iterations = 2;
  auto dev_env = std::make_unique<tasks::DeviceLocomotionEnv<float, tasks::HostSpace<float>>>(
      tasks::HostSpace<float>(stampede::sim::make_backend<float>("cpu", model.get(), n, 1)), spec, task, seed);
  auto host_env = std::make_unique<tasks::LocomotionEnv<float>>(
      stampede::sim::make_backend<float>("cpu", model.get(), n, 1), spec, task, seed, 1);
  const int O = host_env->obs_dim(), A = host_env->act_dim();
  OnPolicyRunner a(pc, std::move(dev_env), "", &c, make_host_space_learner(pc, n, O, A));
  OnPolicyRunner b(pc, std::move(host_env), "", &c, make_host_space_learner(pc, n, O, A));
  CHECK(a.device_loop());
  CHECK_FALSE(b.device_loop());
  std::vector<IterationStats> sa, sb;
  std::vector<LearnerState> la, lb;
  a.on_iteration = [&](const IterationStats& s) { sa.push_back(s); la.push_back(a.learner().state()); };
  b.on_iteration = [&](const IterationStats& s) { sb.push_back(s); lb.push_back(b.learner().state()); };
  a.learn();
  b.learn();
  REQUIRE(sa.size() == 2);
  REQUIRE(sb.size() == 2);
  // the first update, from the same rollout up to the rewards' rounding (the two envs' rewards
  // differ by FMA contraction). Later iterations act with parameters that differ by that much,
  // and a fall one step earlier or later in some world is then within reach: they are compared
  // across ranks only.
  double pmax = 0;
  for (std::size_t i = 0; i < la[0].params.size(); ++i)
    pmax = std::fmax(pmax, std::fabs(la[0].params[i] - lb[0].params[i]));
  INFO("rank " << c.rank() << ": max |param difference| after the first update: " << pmax);
  CHECK(pmax < 1e-5);
  CHECK(sa[0].mean_step_reward == Approx(sb[0].mean_step_reward).epsilon(1e-5));
  CHECK(sa[0].mean_episode_length == Approx(sb[0].mean_episode_length).epsilon(1e-6));
  CHECK(la[0].obs_count == lb[0].obs_count);
  const int T = pc.runner.num_steps_per_env;
  for (int k = 0; k < 2; ++k) {
    INFO("iteration " << k);
    CHECK(same_on_all_ranks(la[k].params));
    CHECK(same_on_all_ranks(la[k].obs_mean));
    CHECK(sa[k].total_samples == int64_t(2) * n * T * (k + 1));  // both ranks' samples
    CHECK(sa[k].total_samples == sb[k].total_samples);
    CHECK(sa[k].nonfinite_worlds == 0);
    // the episodes of both ranks' worlds, the same figures on every rank
    CHECK(std::isfinite(sa[k].mean_episode_length));
    CHECK(same_on_all_ranks(std::vector<double>{sa[k].mean_episode_return, sa[k].mean_episode_length,
                                                sa[k].mean_step_reward, sb[k].mean_step_reward}));
  }
}
