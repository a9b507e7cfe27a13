// cli/cmd_transfer.cpp — `stampede transfer`: the transfer benchmark (docs/TRANSFER.md). An
// exported policy runs through the deployment runtime against MuJoCo or our training simulator,
// nominal and under perturbation sweeps; a table, DIR/transfer.json and DIR/transfer.png. With --replay, a recorded
// robot log is played in MuJoCo and its per-joint divergence reported (DIR/replay.json).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "command.h"
#include "python_script.h"
#include "runtime/policy.h"
#include "runtime/robot_log.h"
#include "runtime/transfer.h"
#include "sim/robot/robot.h"

#if __has_include("sim/tasks/make_env.h")
#include "sim/tasks/make_env.h"
#define STAMPEDE_TRANSFER_HAS_TASKS 1
#endif

namespace stampede::cli {
namespace {

namespace fs = std::filesystem;

const char* kTransferHelp = R"(usage: stampede transfer --policy POLICY.onnx --robot h1|PATH [options]
       stampede transfer --replay LOG.h5 --robot h1|PATH [-o DIR] [--json]

Runs an exported policy through the deployment runtime (contract check, observation, evaluator,
action clip/scale, PD targets, safety layer) against target dynamics, nominal and perturbed, and
reports per condition: success rate (no fall to the end of the episode), velocity-tracking error
(mean |vx - command|, heading frame), falls, mean |torque|, power (sum |tau qd| dt per second)
and the gap to the nominal condition. Writes DIR/transfer.json and DIR/transfer.png.

options:
  --policy FILE          exported policy (stampede export)
  --robot NAME|PATH      robot name under assets/ (h1, humanoid) or a robot.yaml path
  --target mujoco|training  the dynamics: mujoco = MuJoCo's mj_step on the robot's MJCF
                         (default); training = our training simulator (the CPU kernel backend
                         `stampede train --device cpu` uses), read and driven as training does.
                         The gap is to the nominal condition on the same target
  --perturb NAME=LO:HI[:N]  a sweep of N values (default 3) in [LO, HI]; repeatable. NAME:
                         friction        sliding friction coefficient of every geom (nominal: MJCF)
                         mass            kg added to the base body (nominal 0)
                         motor_strength  torque multiplier (nominal 1)
                         kp, kd          multiplier on the robot's PD gains (nominal 1)
                         latency         control steps before a command reaches the motors (0)
                         sensor_noise    multiple of robot.yaml's observation noise (0)
                         push            m/s: U(-v, v) added to the base x/y velocity every
                                         --push-interval seconds (0)
  --episodes N           episodes per condition (default 5)
  --episode-seconds S    episode length (default 10)
  --command VX           forward velocity command, m/s (default 1.0; vy = yaw rate = 0)
  --seed S               seed of sensor noise and pushes (default 0)
  --push-interval S      seconds between pushes (default 2.5)
  --task NAME            task config whose termination section defines a fall (default: the
                         task for the robot, e.g. h1-walk)
  --gait-period S        gait clock of the gait_phase term (default: the policy's metadata)
  --log FILE.h5          record the nominal condition's first episode as a robot log
  --replay FILE.h5       play a robot log's PD targets in MuJoCo from its first state (any
                         --target: replay is MuJoCo's); report
                         the per-joint qpos divergence
  -o, --output DIR       output folder (default transfer-out)
  --json                 print the JSON instead of the table
  -h, --help             this help
exit status: 0 done, 3 the policy's contract does not match the robot, 2 usage, 1 other error
)";

struct TransferArgs {
  std::string policy, robot, target = "mujoco", task, log, replay, out = "transfer-out";
  std::vector<std::string> perturb;
  runtime::TransferOptions options;
  bool json = false;
};

double number(const std::string& flag, const std::string& s) {
  std::size_t used = 0;
  double v = 0;
  try {
    v = std::stod(s, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != s.size()) throw std::invalid_argument(flag + " '" + s + "': expected a number");
  return v;
}

TransferArgs parse_args(const std::vector<std::string>& args, bool* help) {
  TransferArgs a;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& f = args[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= args.size()) throw std::invalid_argument(f + " needs a value");
      return args[++i];
    };
    if (f == "-h" || f == "--help") {
      *help = true;
      return a;
    } else if (f == "--policy") a.policy = value();
    else if (f == "--robot") a.robot = value();
    else if (f == "--target") a.target = value();
    else if (f == "--perturb") a.perturb.push_back(value());
    else if (f == "--episodes") a.options.episodes = static_cast<int>(number(f, value()));
    else if (f == "--episode-seconds") a.options.episode_seconds = number(f, value());
    else if (f == "--command") a.options.command_vx = number(f, value());
    else if (f == "--seed") a.options.seed = static_cast<uint64_t>(number(f, value()));
    else if (f == "--push-interval") a.options.push_interval = number(f, value());
    else if (f == "--task") a.task = value();
    else if (f == "--gait-period") a.options.gait_period = number(f, value());
    else if (f == "--log") a.log = value();
    else if (f == "--replay") a.replay = value();
    else if (f == "-o" || f == "--output") a.out = value();
    else if (f == "--json") a.json = true;
    else throw std::invalid_argument("unknown option '" + f + "' (stampede transfer --help)");
  }
  if (a.options.episodes < 1) throw std::invalid_argument("--episodes must be >= 1");
  if (!(a.options.episode_seconds > 0)) throw std::invalid_argument("--episode-seconds must be > 0");
  if (!(a.options.push_interval > 0)) throw std::invalid_argument("--push-interval must be > 0");
  return a;
}

// the fall criteria: the termination section of the robot's task config
runtime::FallCriteria fall_criteria(const std::string& task_arg, const robot::RobotSpec& spec, std::string* task_used) {
  runtime::FallCriteria fall;
  fall.min_base_height = 0;
  fall.max_tilt = 1.0;
#ifdef STAMPEDE_TRANSFER_HAS_TASKS
  std::string task = task_arg;
  if (task.empty()) {
    for (const auto& name : sim::tasks::locomotion_task_names()) {
      const auto cfg = sim::tasks::find_task_config(name);
      if (cfg.robot == spec.name || fs::path(cfg.robot).parent_path().filename() == spec.name) {
        task = name;
        if (name == spec.name + "-walk") break;
      }
    }
  }
  if (!task.empty()) {
    const auto cfg = sim::tasks::find_task_config(task);
    fall.min_base_height = cfg.termination.min_base_height;
    fall.max_tilt = cfg.termination.max_tilt;
    fall.base_contact = cfg.termination.base_contact;
    fall.contact_bodies = cfg.termination.contact_bodies;
    *task_used = task;
    return fall;
  }
#else
  if (!task_arg.empty()) throw std::invalid_argument("--task: this build cannot read task configs");
#endif
  *task_used = "(none: base contact or tilt > 1 rad)";
  return fall;
}

void write_file(const fs::path& path, const std::string& text) {
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp);
    out << text;
    if (!out) throw std::runtime_error(tmp.string() + ": cannot write");
  }
  fs::rename(tmp, path);
}

// the PNG: one column per swept perturbation, rows success rate / velocity error / power, the
// nominal on the same target as a dashed line
const char* kPlotScript = R"PY(
import json, sys, os
d = sys.argv[1]
try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    print("matplotlib is missing (pip install matplotlib)"); sys.exit(3)
r = json.load(open(os.path.join(d, "transfer.json")))
conds = r["conditions"]
nom = conds[0]
names = []
for c in conds[1:]:
    if c["perturbation"] not in names: names.append(c["perturbation"])
if not names: names = ["nominal"]
rows = [("success_rate", "success rate"), ("vel_error", "|vx - cmd| (m/s)"), ("power", "power (W)")]
fig, ax = plt.subplots(len(rows), len(names), figsize=(3.2 * len(names) + 1, 7), squeeze=False)
for j, n in enumerate(names):
    pts = [c for c in conds if c["perturbation"] == n]
    for i, (key, label) in enumerate(rows):
        a = ax[i][j]
        xs = [c["value"] for c in pts]
        ys = [c[key] if c[key] is not None else float("nan") for c in pts]
        a.plot(xs, ys, "o-")
        a.axhline(nom[key] if nom[key] is not None else float("nan"), ls="--", c="gray", label="nominal (%s)" % r["target"])
        if i == len(rows) - 1: a.set_xlabel(n)
        if j == 0: a.set_ylabel(label)
        if key == "success_rate": a.set_ylim(-0.05, 1.05)
ax[0][0].legend(fontsize=8)
fig.suptitle("stampede transfer: %s on %s, target %s, %d episodes x %g s" % (os.path.basename(r["policy"]), r["robot"], r["target"], r["episodes"], r["episode_seconds"]))
fig.tight_layout()
fig.savefig(os.path.join(d, "transfer.png"), dpi=110)
)PY";

// "" when DIR/transfer.png was written, else why not
std::string plot(const fs::path& dir) {
  const fs::path script = dir / ".transfer_plot.py";
  write_file(script, kPlotScript);
  const std::string error = run_python_script(script, {dir.string()}, dir / "transfer.png");
  fs::remove(script);
  return error;
}

int run_replay(const TransferArgs& a, const robot::RobotSpec& spec) {
  const runtime::RobotLog log = runtime::read_robot_log(a.replay);
  const runtime::ReplayResult r = runtime::replay_log(spec, log, a.replay);
  fs::create_directories(a.out);
  const std::string json = runtime::replay_json(r, a.replay, spec.name);
  write_file(fs::path(a.out) / "replay.json", json);
  if (a.json) {
    std::printf("%s", json.c_str());
  } else {
    std::printf("replay %s (%d steps of %.3f s, contract %s) on %s in MuJoCo: qpos divergence per joint\n",
                a.replay.c_str(), log.steps, log.control_period, log.contract_hash.substr(0, 12).c_str(), spec.name.c_str());
    std::printf("%s", runtime::replay_table(r).c_str());
    std::printf("wrote %s\n", (fs::path(a.out) / "replay.json").c_str());
  }
  return 0;
}

int run_transfer(const std::vector<std::string>& args) {
  bool help = false;
  TransferArgs a = parse_args(args, &help);
  if (help) {
    std::printf("%s", kTransferHelp);
    return 0;
  }
  if (a.robot.empty() || (a.policy.empty() && a.replay.empty())) {
    std::fprintf(stderr, "stampede transfer: --robot and --policy (or --replay) are required\n\n%s", kTransferHelp);
    return 2;
  }
  {
    const auto targets = runtime::transfer_targets();
    if (std::find(targets.begin(), targets.end(), a.target) == targets.end()) {
      std::string known;
      for (const auto& t : targets) known += (known.empty() ? "" : ", ") + t;
      throw std::invalid_argument("--target '" + a.target + "': this build has " + known +
                                  (a.target == "training" ? " (no CPU kernel backend)" : ""));
    }
  }
  a.options.target = a.target;
  const robot::RobotSpec spec = robot::load_robot(robot::resolve_robot_path(a.robot, STAMPEDE_ASSETS_DIR));
  if (!a.replay.empty()) return run_replay(a, spec);

  std::vector<runtime::Condition> conditions = {runtime::Condition{}};
  for (const auto& p : a.perturb) {
    for (const auto& c : runtime::parse_perturb(p)) conditions.push_back(c);
  }
  runtime::Policy policy = runtime::Policy::load(a.policy);
  try {
    runtime::check_contract(policy, spec);
  } catch (const runtime::ContractMismatch& e) {
    std::fprintf(stderr, "stampede transfer: refused: %s\n", e.what());
    return 3;
  }
  std::string task_used;
  a.options.fall = fall_criteria(a.task, spec, &task_used);
  std::fprintf(stderr,
               "stampede transfer: %s on %s via %s, %zu conditions x %d episodes x %g s, command vx %.2f m/s, "
               "falls per task %s\n",
               a.policy.c_str(), spec.name.c_str(),
               a.target == "training" ? "the training sim (CPU kernel backend)" : "MuJoCo", conditions.size(), a.options.episodes, a.options.episode_seconds,
               a.options.command_vx, task_used.c_str());

  std::vector<runtime::ConditionResult> results;
  runtime::RobotLog log;
  for (std::size_t i = 0; i < conditions.size(); ++i) {
    const bool want_log = i == 0 && !a.log.empty();
    results.push_back(runtime::run_condition(spec, policy, conditions[i], a.options, want_log ? &log : nullptr));
    const auto& r = results.back();
    std::fprintf(stderr, "  [%zu/%zu] %-22s success %3.0f%%  vel err %.3f m/s  power %.0f W\n", i + 1, conditions.size(),
                 r.condition.label().c_str(), 100 * r.success_rate, r.vel_error, r.power);
    if (want_log) {
      runtime::write_robot_log(a.log, log);
      std::fprintf(stderr, "  wrote robot log %s (%d steps)\n", a.log.c_str(), log.steps);
    }
  }

  fs::create_directories(a.out);
  const std::string json = runtime::transfer_json(results, a.options, a.policy, spec.name);
  write_file(fs::path(a.out) / "transfer.json", json);
  const std::string plot_error = plot(fs::path(a.out));
  if (a.json) {
    std::printf("%s", json.c_str());
  } else {
    std::printf("%s", runtime::transfer_table(results, a.options).c_str());
    std::printf("wrote %s\n", (fs::path(a.out) / "transfer.json").c_str());
  }
  if (plot_error.empty()) std::fprintf(stderr, "wrote %s\n", (fs::path(a.out) / "transfer.png").c_str());
  else std::fprintf(stderr, "stampede transfer: no transfer.png: %s\n", plot_error.c_str());
  return 0;
}

const Registrar kTransfer("transfer",
                          "run an exported policy against MuJoCo or the training sim, nominal and perturbed; replay robot logs",
                          run_transfer);

}  // namespace
}  // namespace stampede::cli
