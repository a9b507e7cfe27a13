// tests/runtime/runtime_test_util.h — a small robot, random MLPs with a double-precision reference
// forward pass, policies as ONNX bytes (via the test writer), and a scripted RobotIO.
#pragma once

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "runtime/robot_io.h"
#include "sim/robot/robot.h"
#include "tests/runtime/onnx_test_writer.h"

namespace stampede::test {

// three joints, every observation term, non-trivial scales and clips
inline const char* kSmallRobotYaml = R"(
name: small
mjcf: small.xml
joints:
  - {name: hip,   default: 0.1,  kp: 50.0, kd: 1.0, torque_limit: 30.0}
  - {name: knee,  default: -0.2, kp: 60.0, kd: 1.5, torque_limit: 40.0}
  - {name: ankle, default: 0.0,  kp: 20.0, kd: 0.5, torque_limit: 10.0}
action: {scale: 0.5, clip: 2.0}
control: {period: 0.02, decimation: 4}
observation:
  - {term: base_lin_vel, scale: 2.0}
  - {term: base_ang_vel, scale: 0.25, clip: 0.5}
  - {term: projected_gravity}
  - {term: commands, scale: [2.0, 2.0, 0.25]}
  - {term: joint_pos}
  - {term: joint_vel, scale: 0.05}
  - {term: last_action}
  - {term: gait_phase}
frames: {base: torso, imu: imu, feet: [foot]}
)";

inline robot::RobotSpec small_robot(const std::string& yaml = kSmallRobotYaml) {
  return robot::parse_robot(yaml, "small/robot.yaml");
}

// Xavier-uniform weights, normalizer statistics in a plausible range
inline TestMlp random_mlp(const std::vector<int>& sizes, unsigned seed, const std::string& activation = "Elu") {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  TestMlp p;
  p.sizes = sizes;
  p.activation = activation;
  for (std::size_t l = 0; l + 1 < sizes.size(); ++l) {
    const float lim = std::sqrt(6.0f / static_cast<float>(sizes[l] + sizes[l + 1]));
    std::vector<float> w(static_cast<std::size_t>(sizes[l]) * sizes[l + 1]), b(sizes[l + 1]);
    for (auto& v : w) v = lim * u(rng);
    for (auto& v : b) v = 0.1f * u(rng);
    p.weights.push_back(w);
    p.biases.push_back(b);
  }
  for (int i = 0; i < sizes[0]; ++i) {
    p.mean.push_back(0.3f * u(rng));
    p.std_dev.push_back(0.5f + 0.4f * (u(rng) + 1.0f));
  }
  return p;
}

// the same network in double precision, straight from the definition
inline std::vector<double> reference_forward(const TestMlp& p, const std::vector<float>& obs) {
  std::vector<double> x(obs.size());
  for (std::size_t i = 0; i < obs.size(); ++i) {
    const double v = (static_cast<double>(obs[i]) - p.mean[i]) / p.std_dev[i];
    x[i] = std::fmin(std::fmax(v, -p.clip), p.clip);
  }
  for (std::size_t l = 0; l + 1 < p.sizes.size(); ++l) {
    const int in = p.sizes[l], out = p.sizes[l + 1];
    std::vector<double> y(out);
    for (int o = 0; o < out; ++o) {
      double s = p.biases[l][o];
      for (int i = 0; i < in; ++i) s += static_cast<double>(p.weights[l][static_cast<std::size_t>(o) * in + i]) * x[i];
      if (l + 2 < p.sizes.size()) {
        if (p.activation == "Elu") s = s > 0 ? s : std::expm1(s);
        else if (p.activation == "Tanh") s = std::tanh(s);
        else if (p.activation == "Relu") s = s > 0 ? s : 0;
      }
      y[o] = s;
    }
    x = y;
  }
  return x;
}

// ONNX bytes of `p` carrying `spec`'s contract in its metadata, as the exporter writes it
inline std::string policy_bytes(const TestMlp& p, const robot::RobotSpec& spec) {
  TestModel m = mlp_model(p);
  m.metadata["stampede.format"] = "stampede-policy-1";
  m.metadata["stampede.contract"] = robot::canonical_contract(spec);
  m.metadata["stampede.contract_hash"] = robot::contract_hash(spec);
  m.metadata["task.gait_period"] = "0.8";
  return m.serialize();
}

inline std::vector<int> default_sizes(const robot::RobotSpec& spec, std::vector<int> hidden = {32, 16}) {
  std::vector<int> s{spec.obs_size()};
  s.insert(s.end(), hidden.begin(), hidden.end());
  s.push_back(spec.num_joints());
  return s;
}

// a scripted robot: readings set by the test, a clock that advances by `read_delay` on every
// read (to simulate a slow cycle), and every command kept
class FakeIO : public runtime::RobotIO {
 public:
  explicit FakeIO(const robot::RobotSpec& spec) {
    for (const auto& j : spec.joints) {
      reading.joint_pos.push_back(j.default_pos);
      reading.joint_vel.push_back(0.0);
    }
  }
  void read(runtime::SensorReading& out) override {
    clock += read_delay;
    if (vary) {  // a live sensor: tiny changes every sample
      tick += 1;
      reading.imu_ang_vel[0] = 1e-4 * std::sin(0.7 * tick);
      reading.joint_vel[0] = 1e-4 * std::cos(0.3 * tick);
    }
    out = reading;
  }
  void write(const runtime::JointCommand& cmd) override { commands.push_back(cmd); }
  double now() override { return clock; }
  void wait_until(double t) override { if (clock < t) clock = t; }

  runtime::SensorReading reading;
  std::vector<runtime::JointCommand> commands;
  double clock = 0, read_delay = 0.001;
  bool vary = true;
  double tick = 0;
};

}  // namespace stampede::test
