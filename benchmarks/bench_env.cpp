// benchmarks/bench_env.cpp — locomotion env throughput (env steps per second at the control rate,
// summed over worlds) against the world count, on the MuJoCo reference backend.
//
//   bench_env [--task h1-walk] [--device mujoco] [--worlds 1,16,64,256,1024,4096]
//             [--threads 0] [--seconds 2]
//
// For each world count it reports, per control step: the whole env step (actions -> PD ->
// decimation physics steps -> rewards, observations, resets), the same number of bare backend
// steps, and the task's share (the difference). Random actions in [-1, 1]. --device cpu runs the
// same task on the CPU kernel backend (float) when the build has it. --device cuda runs the GPU
// env (a CUDA build with a GPU) and reports two rates: through host arrays (`step`: actions up,
// observations and rewards down every step), and device resident (`step_device`: the actions
// already on the GPU, as the CUDA learner hands them over, from 8 random tables uploaded once).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim/tasks/locomotion_env.h"
#include "sim/tasks/make_env.h"
#include "sim/tasks/task_math.h"
#include "stampede/sim.h"


using namespace stampede::sim::tasks;
using Clock = std::chrono::steady_clock;

namespace {

std::vector<int> parse_list(const std::string& s) {
  std::vector<int> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');) out.push_back(std::stoi(item));
  return out;
}

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// env steps per second of a device-resident env stepped on actions already in its memory: 8
// random action tables uploaded once (the sim API's device copies), cycled through; the last
// step's rewards copied back end the timing, as that copy waits for every queued kernel
double device_steps_per_s(stampede::rl::VecEnvBase& env, double budget) {
  namespace ss = stampede::sim;
  const std::size_t count = static_cast<std::size_t>(env.num_envs()) * env.act_dim();
  constexpr int kTables = 8;
  std::vector<float> host(count * kTables);
  uint64_t rng = 11;
  for (float& a : host) a = static_cast<float>(rng_uniform(rng, -1.0, 1.0));
  const std::shared_ptr<void> tables = ss::device_copy_from_host(host.data(), host.size() * sizeof(float));
  const float* actions = static_cast<const float*>(tables.get());
  std::vector<float> reward(env.num_envs());
  auto finish = [&] {
    ss::ArrayView v;
    v.data = const_cast<float*>(env.device_outputs().reward);
    v.dtype = ss::DType::kFloat32;
    v.shape = {env.num_envs()};
    v.device = ss::Device::kCuda;
    v.name = "reward";
    ss::copy_to_host(v, reward.data());
  };
  env.reset_device();
  for (int i = 0; i < 3; ++i) env.step_device(actions + (i % kTables) * count);
  finish();
  int steps = 0;
  const auto t0 = Clock::now();
  while (seconds_since(t0) < budget || steps < 3) {
    env.step_device(actions + (steps % kTables) * count);
    ++steps;
  }
  finish();
  return env.num_envs() / (seconds_since(t0) / steps);
}

int run(int argc, char** argv) {
  std::string task = "h1-walk", device = "mujoco";
  std::vector<int> worlds = {1, 16, 64, 256, 1024, 4096};
  int threads = 0;
  double budget = 2.0;
  for (int i = 1; i < argc; i += 2) {
    const std::string k = argv[i];
    if (k == "--help" || k == "-h") {
      std::printf("usage: bench_env [--task h1-walk] [--device mujoco|cpu|cuda] [--worlds 1,16,64,256,1024,4096]\n"
                  "                 [--threads 0] [--seconds 2]\n"
                  "env steps/s at the control rate against the world count; physics and task shares\n");
      return 0;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "option %s needs a value (--help)\n", argv[i]);
      return 2;
    }
    const std::string v = argv[i + 1];
    if (k == "--task") task = v;
    else if (k == "--device") device = v;
    else if (k == "--worlds") worlds = parse_list(v);
    else if (k == "--threads") threads = std::stoi(v);
    else if (k == "--seconds") budget = std::stod(v);
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  std::printf("task %s, device %s, threads %d (0: all)\n", task.c_str(), device.c_str(), threads);
  std::printf("%8s %14s %14s %14s %12s %18s\n", "worlds", "env steps/s", "env ms/step", "physics ms", "task ms",
              "device-resident/s");
  for (int n : worlds) {
    auto env = make_locomotion_vec_env(task, n, device, 1, nullptr, threads);
    const int na = env->act_dim(), no = env->obs_dim();
    std::vector<float> act(static_cast<size_t>(n) * na), obs(static_cast<size_t>(n) * no),
        final_obs(obs.size()), reward(n);
    std::vector<unsigned char> term(n), trunc(n);
    env->reset(obs.data());
    uint64_t rng = 5;
    auto fill = [&] {
      for (float& a : act) a = static_cast<float>(rng_uniform(rng, -1.0, 1.0));
    };
    // warm up, then as many steps as fit in the budget
    for (int i = 0; i < 3; ++i) {
      fill();
      env->step(act.data(), obs.data(), reward.data(), term.data(), trunc.data(), final_obs.data());
    }
    // env steps and bare physics steps interleaved, so both see the same machine load
    // the bare physics of a control step: decimation backend steps with the last ctrl
    std::function<void()> physics;
    if (auto* e = dynamic_cast<LocomotionEnv<double>*>(env.get()))
      physics = [e] { for (int k = 0; k < e->robot().decimation; ++k) e->backend().step(1); };
    if (auto* e = dynamic_cast<LocomotionEnv<float>*>(env.get()))
      physics = [e] { for (int k = 0; k < e->robot().decimation; ++k) e->backend().step(1); };
    int steps = 0;
    double env_time = 0, phys_time = physics ? 0.0 : -1.0;
    while (env_time < budget || steps < 3) {
      fill();
      auto t0 = Clock::now();
      env->step(act.data(), obs.data(), reward.data(), term.data(), trunc.data(), final_obs.data());
      env_time += seconds_since(t0);
      ++steps;
      if (physics) {
        t0 = Clock::now();
        physics();
        phys_time += seconds_since(t0);
      }
    }
    const double per_step = env_time / steps;
    const double resident = env->device_resident() ? device_steps_per_s(*env, budget) : -1.0;
    std::printf("%8d %14.0f %14.3f %14.3f %12.3f %18.0f\n", n, n / per_step, 1e3 * per_step,
                phys_time < 0 ? -1.0 : 1e3 * phys_time / steps,
                phys_time < 0 ? -1.0 : 1e3 * (env_time - phys_time) / steps, resident);
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_env: %s\n", e.what());
    return 1;
  }
}
