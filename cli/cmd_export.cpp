// cli/cmd_export.cpp — `stampede export`: a training run's checkpoint -> policy.onnx, the bundle
// the deployment runtime (stampede-deploy) loads: observation normalizer + actor MLP (the
// deterministic mean action) + the robot contract and the run's provenance in its metadata.
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "command.h"
#include "rl/checkpoint.h"
#include "rl/train_job.h"
#include "rl/export/checkpoint_export.h"
#include "rl/export/policy_export.h"
#include "sim/robot/robot.h"

#if __has_include("sim/tasks/make_env.h")
#include "sim/tasks/make_env.h"
#define STAMPEDE_EXPORT_HAS_TASKS 1
#endif

namespace stampede::cli {
namespace {

const char* kExportHelp = R"(usage: stampede export --run RUN -o POLICY.onnx [options]
       stampede export --random --robot ROBOT -o POLICY.onnx [--seed N] [--hidden 512,256,128]

Exports a run's policy for deployment: one ONNX graph (opset 17) from `obs` [batch, obs_dim] to
`actions` [batch, act_dim] holding the observation normalizer and the actor MLP (the Gaussian
head's mean, no sampling), with the robot contract (joint order, defaults, gains, scales,
observation layout, control period), its hash, the task's gait period and the run's provenance in
the metadata. The graph passes onnx::checker; the file is written atomically.

options:
  --run RUN            run directory (or its name under runs/); its latest checkpoint
  --checkpoint FILE    a specific checkpoint instead
  --robot ROBOT        robot name under assets/ or robot.yaml path (default: the task's robot);
                       its contract hash must equal the checkpoint's
  --gait-period S      the task's gait clock (default: the task config's rewards.gait_period)
  -o, --output FILE    where to write the policy
  --random             a random-weight policy for ROBOT instead (to test a deployment pipeline;
                       never for a real robot)
  --seed N, --hidden W,W,...   for --random (defaults 1 and 512,256,128)
  -h, --help           this help
)";

int run_export(const std::vector<std::string>& args) {
  std::string run, checkpoint, robot_arg, output, hidden = "512,256,128";
  double gait_period = 0;
  unsigned long long seed = 1;
  bool random = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= args.size()) throw std::invalid_argument(a + " needs a value");
      return args[++i];
    };
    if (a == "-h" || a == "--help") {
      std::printf("%s", kExportHelp);
      return 0;
    } else if (a == "--run") run = value();
    else if (a == "--checkpoint") checkpoint = value();
    else if (a == "--robot") robot_arg = value();
    else if (a == "--gait-period") gait_period = std::stod(value());
    else if (a == "-o" || a == "--output") output = value();
    else if (a == "--random") random = true;
    else if (a == "--seed") seed = std::stoull(value());
    else if (a == "--hidden") hidden = value();
    else throw std::invalid_argument("unknown option '" + a + "' (stampede export --help)");
  }
  if (output.empty()) throw std::invalid_argument("-o POLICY.onnx is required");

  if (random) {
    if (robot_arg.empty()) throw std::invalid_argument("--random needs --robot");
    const robot::RobotSpec spec = robot::load_robot(robot::resolve_robot_path(robot_arg, STAMPEDE_ASSETS_DIR));
    std::vector<int> widths;
    std::size_t at = 0;
    while (at < hidden.size()) {
      const std::size_t comma = hidden.find(',', at);
      widths.push_back(std::stoi(hidden.substr(at, comma - at)));
      at = comma == std::string::npos ? hidden.size() : comma + 1;
    }
    rl::ExportedPolicy p = rl::random_policy(spec, widths, seed);
    if (gait_period > 0) p.gait_period = gait_period;
    rl::export_policy_onnx(p, output);
    std::printf("wrote %s: RANDOM weights for %s (contract %s), for pipeline tests only\n", output.c_str(),
                spec.name.c_str(), p.contract_hash.substr(0, 12).c_str());
    return 0;
  }

  if (checkpoint.empty()) {
    if (run.empty()) throw std::invalid_argument("--run RUN (or --checkpoint FILE) is required");
    checkpoint = rl::latest_checkpoint(rl::resolve_run_dir(run));
    if (checkpoint.empty()) throw std::runtime_error("run " + run + " has no checkpoint yet");
  }
  const rl::Checkpoint ck = rl::load_checkpoint(checkpoint);
  // the robot and the gait clock: from the task config unless given
  std::string robot_name = robot_arg;
#ifdef STAMPEDE_EXPORT_HAS_TASKS
  if (robot_name.empty() || gait_period <= 0) {
    const auto task = sim::tasks::find_task_config(ck.task);
    if (robot_name.empty()) robot_name = task.robot;
    if (gait_period <= 0) gait_period = task.rewards.gait_period;
  }
#endif
  if (robot_name.empty()) throw std::invalid_argument("--robot is required (this build cannot read task configs)");
  const robot::RobotSpec spec = robot::load_robot(robot::resolve_robot_path(robot_name, STAMPEDE_ASSETS_DIR));
  rl::ExportedPolicy p = rl::exported_policy_from_checkpoint(ck, spec, gait_period, checkpoint);
  if (!run.empty()) p.provenance["run"] = run;
  rl::export_policy_onnx(p, output);
  std::printf("wrote %s: %s iteration %lld, actor %d", output.c_str(), ck.task.c_str(),
              static_cast<long long>(ck.iteration), p.layer_sizes.front());
  for (std::size_t l = 1; l < p.layer_sizes.size(); ++l) std::printf("-%d", p.layer_sizes[l]);
  std::printf(" %s, contract %s\n", p.activation.c_str(), p.contract_hash.substr(0, 12).c_str());
  return 0;
}

const Registrar kExport("export", "export a run's policy to ONNX for the deployment runtime", run_export);

}  // namespace
}  // namespace stampede::cli
