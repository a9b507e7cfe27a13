// benchmarks/bench_learner.cpp — the PPO learner's throughput (CPU, or CUDA with --device cuda) with the default network
// (512-256-128 ELU actor and critic): rollout inference (act + process_env_step) and the update
// (compute_returns + epochs x minibatches), in samples per second, with synthetic observations
// and rewards so that only the learner is timed. On CUDA the host arrays cross to the device each
// step (as for an env on the host); every timed phase ends with a copy back, so it is complete.
//
//   bench_learner [--num-envs 4096] [--steps 24] [--obs-dim 69] [--act-dim 19] [--threads 0]
//                 [--iterations 2] [--hidden 512,256,128] [--device cpu|cuda]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "rl/learner.h"
#include "rl/rng.h"

using namespace stampede::rl;
using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
  int num_envs = 4096, steps = 24, obs_dim = 69, act_dim = 19, threads = 0, iterations = 2;
  std::string hidden = "512,256,128", device = "cpu";
  for (int i = 1; i < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::printf("usage: bench_learner [--num-envs 4096] [--steps 24] [--obs-dim 69] [--act-dim 19] [--threads 0]\n"
                  "                     [--iterations 2] [--hidden 512,256,128] [--device cpu|cuda]\n"
                  "the PPO learner's samples/s: rollout inference and the update, synthetic data\n");
      return 0;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "option %s needs a value (--help)\n", argv[i]);
      return 2;
    }
    const char* v = argv[i + 1];
    if (a == "--num-envs") num_envs = std::atoi(v);
    else if (a == "--steps") steps = std::atoi(v);
    else if (a == "--obs-dim") obs_dim = std::atoi(v);
    else if (a == "--act-dim") act_dim = std::atoi(v);
    else if (a == "--threads") threads = std::atoi(v);
    else if (a == "--iterations") iterations = std::atoi(v);
    else if (a == "--hidden") hidden = v;
    else if (a == "--device") device = v;
    else {
      std::fprintf(stderr, "unknown option %s\n", argv[i]);
      return 2;
    }
  }
  PpoConfig cfg;
  cfg.runner.num_envs = num_envs;
  cfg.runner.num_steps_per_env = steps;
  cfg.runner.num_threads = threads;
  cfg.policy.actor_hidden.clear();
  std::stringstream ss(hidden);
  for (std::string w; std::getline(ss, w, ',');) cfg.policy.actor_hidden.push_back(std::stoi(w));
  cfg.policy.critic_hidden = cfg.policy.actor_hidden;
  cfg.runner.device = device;
  std::unique_ptr<PpoLearner> learner;
  try {
    learner = make_learner(cfg, num_envs, obs_dim, act_dim);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_learner: %s\n", e.what());
    return 3;
  }

  // synthetic env data: fixed random observations and rewards, a time-out now and then
  Rng rng(3);
  std::vector<float> obs(static_cast<std::size_t>(num_envs) * obs_dim), act(static_cast<std::size_t>(num_envs) * act_dim),
      rew(num_envs);
  for (auto& x : obs) x = static_cast<float>(rng.normal());
  for (auto& x : rew) x = static_cast<float>(rng.uniform());
  std::vector<unsigned char> term(num_envs, 0), trunc(num_envs, 0);
  for (int i = 0; i < num_envs; i += 50) trunc[i] = 1;

  const double samples = static_cast<double>(num_envs) * steps;
  std::printf("learner: %s, %d envs x %d steps = %.0f samples/iteration, obs %d, act %d, hidden %s, "
              "threads %d (hardware %u), %d params\n",
              learner->device().c_str(), num_envs, steps, samples, obs_dim, act_dim, hidden.c_str(), threads,
              std::thread::hardware_concurrency(), static_cast<int>(learner->layout().num_params()));
  for (int it = 0; it < iterations; ++it) {
    auto t0 = Clock::now();
    for (int t = 0; t < steps; ++t) {
      learner->act(obs.data(), act.data());
      learner->process_env_step(rew.data(), term.data(), trunc.data(), obs.data());
    }
    const double t_act = std::chrono::duration<double>(Clock::now() - t0).count();
    t0 = Clock::now();
    learner->compute_returns(obs.data());
    const UpdateStats st = learner->update();
    const double t_upd = std::chrono::duration<double>(Clock::now() - t0).count();
    std::printf("iteration %d: rollout inference %.3f s (%.0f samples/s) | update %.3f s (%.0f samples/s, "
                "%d epochs x %d minibatches) | inference share %.1f%% | kl %.4f\n",
                it + 1, t_act, samples / t_act, t_upd, samples / t_upd, cfg.algorithm.num_learning_epochs,
                cfg.algorithm.num_mini_batches, 100.0 * t_act / (t_act + t_upd), st.kl);
  }
  return 0;
}
