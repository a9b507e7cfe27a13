// tests/runtime/policy_tool.cpp — helper for tests/python/test_export*.py and for timing:
//   random --robot NAME|PATH -o OUT.onnx [--seed N] [--hidden 512,256,128] [--activation elu]
//          [--params OUT.json]     write a random-weight policy (and its parameters as JSON)
//   eval --policy P.onnx --in OBS.f32 --out ACT.f32 --batch N
//                                  run the runtime's evaluator on raw little-endian float32 rows
//   bench --policy P.onnx [--iters N]
//                                  time one-observation evaluation (p50/p99/max microseconds)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "rl/export/policy_export.h"
#include "runtime/policy.h"
#include "sim/robot/robot.h"

using namespace stampede;

namespace {

std::string arg(const std::vector<std::string>& a, const std::string& flag, const std::string& fallback = "") {
  for (std::size_t i = 0; i + 1 < a.size(); ++i) {
    if (a[i] == flag) return a[i + 1];
  }
  if (fallback.empty()) throw std::invalid_argument("missing " + flag);
  return fallback;
}

void write_floats(std::ostream& out, const std::vector<float>& v) {
  out << "[";
  char buf[32];
  for (std::size_t i = 0; i < v.size(); ++i) {
    std::snprintf(buf, sizeof(buf), "%.9g", v[i]);
    out << (i ? "," : "") << buf;
  }
  out << "]";
}

int cmd_random(const std::vector<std::string>& a) {
  const robot::RobotSpec spec = robot::load_robot(robot::resolve_robot_path(arg(a, "--robot"), STAMPEDE_ASSETS_DIR));
  std::vector<int> hidden;
  std::stringstream hs(arg(a, "--hidden", "512,256,128"));
  for (std::string item; std::getline(hs, item, ',');) hidden.push_back(std::stoi(item));
  const rl::ExportedPolicy p = rl::random_policy(spec, hidden, std::stoull(arg(a, "--seed", "1")), arg(a, "--activation", "elu"));
  rl::export_policy_onnx(p, arg(a, "-o"));
  const std::string params = arg(a, "--params", "-");
  if (params != "-") {
    std::ofstream out(params);
    out << "{\"obs_mean\": ";
    write_floats(out, p.obs_mean);
    out << ", \"obs_var\": ";
    write_floats(out, p.obs_var);
    out << ", \"obs_eps\": " << p.obs_eps << ", \"obs_clip\": " << p.obs_clip << ", \"activation\": \"" << p.activation
        << "\", \"contract_hash\": \"" << p.contract_hash << "\", \"layer_sizes\": [";
    for (std::size_t i = 0; i < p.layer_sizes.size(); ++i) out << (i ? "," : "") << p.layer_sizes[i];
    out << "], \"weights\": [";
    for (std::size_t l = 0; l < p.weights.size(); ++l) {
      out << (l ? "," : "");
      write_floats(out, p.weights[l]);
    }
    out << "], \"biases\": [";
    for (std::size_t l = 0; l < p.biases.size(); ++l) {
      out << (l ? "," : "");
      write_floats(out, p.biases[l]);
    }
    out << "]}\n";
    if (!out) throw std::runtime_error(params + ": cannot write");
  }
  return 0;
}

std::vector<float> read_floats(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open");
  std::ostringstream s;
  s << in.rdbuf();
  const std::string bytes = s.str();
  std::vector<float> v(bytes.size() / 4);
  std::copy(bytes.data(), bytes.data() + v.size() * 4, reinterpret_cast<char*>(v.data()));
  return v;
}

int cmd_eval(const std::vector<std::string>& a) {
  runtime::Policy policy = runtime::Policy::load(arg(a, "--policy"));
  const int batch = std::stoi(arg(a, "--batch"));
  const std::vector<float> obs = read_floats(arg(a, "--in"));
  if (obs.size() != static_cast<std::size_t>(batch) * policy.obs_dim()) throw std::invalid_argument("--in size does not match batch x obs_dim");
  std::vector<float> act(static_cast<std::size_t>(batch) * policy.act_dim());
  policy.evaluator().run_batch(obs.data(), act.data(), batch);
  std::ofstream out(arg(a, "--out"), std::ios::binary);
  out.write(reinterpret_cast<const char*>(act.data()), static_cast<std::streamsize>(act.size() * 4));
  return out ? 0 : 1;
}

int cmd_bench(const std::vector<std::string>& a) {
  runtime::Policy policy = runtime::Policy::load(arg(a, "--policy"));
  const int iters = std::stoi(arg(a, "--iters", "2000"));
  std::mt19937 rng(1);
  std::normal_distribution<float> n(0.0f, 1.0f);
  std::vector<float> obs(policy.obs_dim()), act(policy.act_dim());
  std::vector<double> t(iters);
  for (int k = 0; k < 100; ++k) policy.act(obs.data(), act.data());  // warm caches
  for (int k = 0; k < iters; ++k) {
    for (auto& v : obs) v = n(rng);
    const auto t0 = std::chrono::steady_clock::now();
    policy.act(obs.data(), act.data());
    t[k] = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
  }
  std::sort(t.begin(), t.end());
  std::printf("evaluator %d -> %d, %d calls: p50 %.1f us, p99 %.1f us, max %.1f us\n", policy.obs_dim(), policy.act_dim(),
              iters, t[iters / 2], t[std::min(iters - 1, iters * 99 / 100)], t.back());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::vector<std::string> a(argv + 1, argv + argc);
    if (a.empty()) throw std::invalid_argument("usage: stampede_policy_tool random|eval|bench ...");
    if (a[0] == "random") return cmd_random(a);
    if (a[0] == "eval") return cmd_eval(a);
    if (a[0] == "bench") return cmd_bench(a);
    throw std::invalid_argument("unknown command '" + a[0] + "'");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "stampede_policy_tool: %s\n", e.what());
    return 1;
  }
}
