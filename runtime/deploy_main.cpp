// runtime/deploy_main.cpp — stampede-deploy: run an exported policy through the deployment
// runtime against a RobotIO (today: MuJoCo, sim-to-sim) and print the latency report and the
// safety events at the end.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "runtime/controller.h"
#include "runtime/io_mujoco.h"
#include "runtime/policy.h"
#include "sim/robot/robot.h"
#ifdef STAMPEDE_DEPLOY_LOG
#include "runtime/robot_log.h"
#include "runtime/transfer.h"
#endif

namespace {

using namespace stampede;

const char* kUsage =
    "usage: stampede-deploy --policy POLICY.onnx --robot h1|PATH --io mujoco [options]\n"
    "\n"
    "Runs an exported policy through the deployment runtime: robot.yaml + policy, contract check,\n"
    "observation, inference, safety layer, PD targets at the control period. Prints the latency\n"
    "report (p50/p99/max per cycle, missed deadlines) and the safety events at the end.\n"
    "\n"
    "  --policy PATH        exported policy (stampede export)\n"
    "  --robot NAME|PATH    robot name under assets/ (h1) or a robot.yaml path\n"
    "  --io mujoco          the robot interface: mujoco = sim-to-sim on the robot's MJCF\n"
    "  --duration S         seconds to run (default 10)\n"
    "  --realtime           pace the simulation to the wall clock\n"
    "  --command VX,VY,WZ   velocity command (default 0,0,0)\n"
    "  --gait-period S      seconds per gait cycle for the gait_phase term (default: the\n"
    "                       policy's task.gait_period metadata)\n"
    "  --max-tilt RAD       base tilt that triggers damping mode (default 1.0)\n"
    "  --deadline-ms MS     read-to-write deadline per cycle (default: the control period)\n"
    "  --report-json PATH   also write the report as JSON\n"
    "  --log FILE.h5        record every control step as a robot log (docs/TRANSFER.md); not\n"
    "                       with --realtime\n"
    "exit status: 0 ran to the end in policy mode, 4 ended in damping mode, 3 contract mismatch,\n"
    "2 usage error, 1 other error\n";

std::vector<double> parse_list(const std::string& s, std::size_t n, const std::string& flag) {
  std::vector<double> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) out.push_back(std::stod(item));
  if (out.size() != n) throw std::invalid_argument(flag + " expects " + std::to_string(n) + " comma-separated numbers");
  return out;
}

void print_event(const runtime::SafetyEvent& e) {
  std::fprintf(stderr, "stampede-deploy: safety: cycle %ld t=%.3f s %s: %s -> damping mode\n", e.cycle, e.time,
               runtime::to_string(e.kind), e.detail.c_str());
}

void write_json(const std::string& path, const std::string& json) {
  std::ofstream out(path);
  out << json << "\n";
  if (!out) throw std::runtime_error(path + ": cannot write the report");
}

// --log: MuJoCo through runtime::TransferIO (nominal), which exposes the full state for the log;
// now() adds the wall time spent since physics last advanced, as MujocoIO does, so the
// controller's compute still counts against its deadline
int run_logged(const robot::RobotSpec& spec, runtime::Policy& policy, runtime::ControllerConfig config,
               double duration, const std::string& log_path, const std::string& json_path) {
#ifdef STAMPEDE_DEPLOY_LOG
  struct ClockedIO : runtime::RobotIO {
    explicit ClockedIO(runtime::TransferIO& io) : sim(io), mark(std::chrono::steady_clock::now()) {}
    void read(runtime::SensorReading& out) override { sim.read(out); }
    void write(const runtime::JointCommand& cmd) override { sim.write(cmd); }
    double now() override {
      return sim.now() + std::chrono::duration<double>(std::chrono::steady_clock::now() - mark).count();
    }
    void wait_until(double t) override {
      sim.wait_until(t);
      mark = std::chrono::steady_clock::now();
    }
    runtime::TransferIO& sim;
    std::chrono::steady_clock::time_point mark;
  };
  runtime::TransferIO sim(spec, runtime::Condition{}, 0);
  ClockedIO io(sim);
  config.limits = sim.joint_limits();
  config.on_event = print_event;
  runtime::Controller controller(spec, policy, io, config);
  runtime::RobotLog log = runtime::make_robot_log(spec, policy, sim.nq(), sim.nv());
  std::printf("stampede-deploy: policy %s on %s (%d joints, obs %d) via MuJoCo for %.2f s, logging to %s\n",
              policy.source().c_str(), spec.name.c_str(), spec.num_joints(), spec.obs_size(), duration, log_path.c_str());
  const double period = spec.control_period;
  const long cycles = static_cast<long>(std::ceil(duration / period - 1e-9));
  std::vector<double> tau(spec.joints.size());
  for (long k = 0; k < cycles; ++k) {
    io.wait_until(k * period);
    controller.step();
    sim.command_torques(tau.data());
    log.append(k * period, sim.qpos(), sim.qvel(), controller.last_observation().data(), controller.last_action().data(),
               controller.last_command().target.data(), tau.data(), controller.damping());
  }
  io.wait_until(cycles * period);
  runtime::write_robot_log(log_path, log);
  std::printf("%s", controller.report().c_str());
  std::printf("simulation: %.3f s simulated; robot log %s: %d steps\n", sim.sim_time(), log_path.c_str(), log.steps);
  if (!json_path.empty()) write_json(json_path, controller.report_json());
  return controller.damping() ? 4 : 0;
#else
  (void)spec, (void)policy, (void)config, (void)duration, (void)log_path, (void)json_path;
  throw std::invalid_argument("--log: this build has no HDF5 robot logs (libhdf5 with its high-level library)");
#endif
}

int run(int argc, char** argv) {
  std::string policy_path, robot_name, io_name, json_path, log_path;
  double duration = 10;
  bool realtime = false;
  runtime::ControllerConfig config;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
      return argv[++i];
    };
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (a == "--policy") policy_path = value();
    else if (a == "--robot") robot_name = value();
    else if (a == "--io") io_name = value();
    else if (a == "--duration") duration = std::stod(value());
    else if (a == "--realtime") realtime = true;
    else if (a == "--command") {
      const auto c = parse_list(value(), 3, a);
      for (int k = 0; k < 3; ++k) config.command[k] = c[k];
    } else if (a == "--gait-period") config.gait_period = std::stod(value());
    else if (a == "--max-tilt") config.safety.max_tilt = std::stod(value());
    else if (a == "--deadline-ms") config.deadline = std::stod(value()) * 1e-3;
    else if (a == "--report-json") json_path = value();
    else if (a == "--log") log_path = value();
    else throw std::invalid_argument("unknown option '" + a + "'");
  }
  if (policy_path.empty() || robot_name.empty() || io_name.empty()) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  if (io_name != "mujoco") throw std::invalid_argument("--io " + io_name + ": only 'mujoco' is available in this build");

  const robot::RobotSpec spec = robot::load_robot(robot::resolve_robot_path(robot_name, STAMPEDE_ASSETS_DIR));
  runtime::Policy policy = runtime::Policy::load(policy_path);
  try {
    runtime::check_contract(policy, spec);
  } catch (const runtime::ContractMismatch& e) {
    std::fprintf(stderr, "stampede-deploy: refused: %s\n", e.what());
    return 3;
  }
  if (!log_path.empty()) {
    if (realtime) throw std::invalid_argument("--log and --realtime cannot be combined");
    return run_logged(spec, policy, config, duration, log_path, json_path);
  }
  runtime::MujocoIO io(spec, {realtime, "home"});
  config.limits = io.joint_limits();
  config.on_event = [](const runtime::SafetyEvent& e) {
    std::fprintf(stderr, "stampede-deploy: safety: cycle %ld t=%.3f s %s: %s -> damping mode\n", e.cycle, e.time,
                 runtime::to_string(e.kind), e.detail.c_str());
  };
  runtime::Controller controller(spec, policy, io, config);
  std::printf("stampede-deploy: policy %s on %s (%d joints, obs %d) via MuJoCo%s for %.2f s\n", policy_path.c_str(),
              spec.name.c_str(), spec.num_joints(), spec.obs_size(), realtime ? " (realtime)" : "", duration);
  controller.run(duration);

  std::printf("%s", controller.report().c_str());
  std::printf("simulation: %.3f s simulated, %ld physics steps, base height %.3f m, max |torque|/limit %.3f\n",
              io.sim_time(), io.physics_steps(), io.base_height(), io.max_torque_ratio());
  if (!json_path.empty()) {
    std::string json = controller.report_json();
    char extra[256];
    std::snprintf(extra, sizeof(extra),
                  ", \"io\": \"mujoco\", \"sim_time_s\": %.9g, \"physics_steps\": %ld, \"base_height_m\": %.9g, "
                  "\"max_torque_ratio\": %.9g}",
                  io.sim_time(), io.physics_steps(), io.base_height(), io.max_torque_ratio());
    json.pop_back();  // the closing brace
    json += extra;
    std::ofstream out(json_path);
    out << json << "\n";
    if (!out) throw std::runtime_error(json_path + ": cannot write the report");
  }
  return controller.damping() ? 4 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "stampede-deploy: error: %s\n", e.what());
    return 1;
  }
}
