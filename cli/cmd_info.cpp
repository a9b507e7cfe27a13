// cli/cmd_info.cpp — `stampede info --robot humanoid|h1|PATH`: what a robot is to stampede.
// PATH is a robot.yaml (or a folder holding one) or a bare MJCF .xml (e.g. MuJoCo's sample
// humanoid, which has no robot.yaml). Prints the robot description (joints in policy order,
// observation layout, action, control, frames, contract hash), the compiled model's sizes and
// whether the stampede kernels support every feature the model uses.
#include <mujoco/mujoco.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "command.h"
#include "sim/compile.h"
#include "sim/robot/robot.h"
#include "sim/robot_check.h"

namespace stampede::cli {
namespace {

namespace fs = std::filesystem;

struct ModelDeleter {
  void operator()(mjModel* m) const { mj_deleteModel(m); }
};
using ModelPtr = std::unique_ptr<mjModel, ModelDeleter>;

void print_help() {
  std::printf(
      "usage: stampede info --robot NAME|PATH\n\n"
      "Describe a robot: its joints in policy order (default pose, PD gains, torque limits,\n"
      "joint ranges from the MJCF), observation layout, action scaling, control timing, frames,\n"
      "contract hash, the compiled model's sizes, and whether the stampede kernels support it.\n\n"
      "  --robot NAME|PATH  a robot name (h1, humanoid: assets/<name>/robot.yaml), a robot.yaml,\n"
      "                     a folder holding robot.yaml, or a bare MJCF .xml\n"
      "  -h, --help         this text\n");
}

// where robot names are looked up: the source tree's assets (a build), then next to an
// installed binary (<prefix>/bin/stampede -> <prefix>/share/stampede/assets), then ./assets
std::vector<fs::path> asset_dirs() {
  std::vector<fs::path> dirs = {fs::path(STAMPEDE_ASSETS_DIR)};
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    dirs.push_back(exe.parent_path() / "assets");
    dirs.push_back(exe.parent_path().parent_path() / "share" / "stampede" / "assets");
  }
  dirs.push_back(fs::current_path(ec) / "assets");
  std::vector<fs::path> unique;
  for (const fs::path& d : dirs) {
    const fs::path n = d.lexically_normal();
    if (std::find(unique.begin(), unique.end(), n) == unique.end()) unique.push_back(n);
  }
  return unique;
}

bool has_suffix(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// a robot name or path -> an existing robot.yaml; throws naming every place looked at
std::string find_robot_yaml(const std::string& robot) {
  std::error_code ec;
  const bool looks_like_name = robot.find('/') == std::string::npos && !has_suffix(robot, ".yaml") &&
                               !has_suffix(robot, ".yml");
  std::string tried;
  if (looks_like_name) {
    for (const fs::path& dir : asset_dirs()) {
      const std::string path = robot::resolve_robot_path(robot, dir.string());
      if (fs::is_regular_file(path, ec)) return path;
      tried += "\n  " + (dir / robot / "robot.yaml").string();
    }
  }
  const std::string path = robot::resolve_robot_path(robot, ".");
  if (fs::is_regular_file(path, ec)) return path;
  if (tried.empty()) throw std::runtime_error("robot file '" + robot + "' does not exist");
  throw std::runtime_error("unknown robot '" + robot + "': no such file, and no robot.yaml at" +
                           tried);
}

std::string format_scale(const std::vector<double>& scale) {
  if (scale.empty()) return "1";
  bool uniform = true;
  for (double s : scale) uniform &= s == scale[0];
  char buf[64];
  if (uniform) {
    std::snprintf(buf, sizeof(buf), "%g", scale[0]);
    return buf;
  }
  std::string out = "[";
  for (size_t i = 0; i < scale.size(); ++i) {
    std::snprintf(buf, sizeof(buf), "%s%g", i ? ", " : "", scale[i]);
    out += buf;
  }
  return out + "]";
}

// a joint's range as the MJCF gives it
std::string format_range(const mjModel* m, int jnt) {
  if (jnt < 0) return "(not in MJCF)";
  if (!m->jnt_limited[jnt]) return "unlimited";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "[%.3f, %.3f]", m->jnt_range[2 * jnt], m->jnt_range[2 * jnt + 1]);
  return buf;
}

void print_joints(const robot::RobotSpec& spec, const mjModel* m) {
  std::printf("\njoints (policy order): %d\n", spec.num_joints());
  std::printf("  %3s  %-24s %-24s %8s %8s %7s %8s  %s\n", "idx", "joint", "actuator", "default",
              "kp", "kd", "torque", "range (MJCF)");
  for (int i = 0; i < spec.num_joints(); ++i) {
    const robot::JointSpec& j = spec.joints[i];
    const int jnt = mj_name2id(m, mjOBJ_JOINT, j.name.c_str());
    std::printf("  %3d  %-24s %-24s %8.3f %8.1f %7.2f %8.1f  %s\n", i, j.name.c_str(),
                j.actuator.c_str(), j.default_pos, j.kp, j.kd, j.torque_limit,
                format_range(m, jnt).c_str());
  }
}

void print_observation(const robot::RobotSpec& spec) {
  std::printf("\nobservation: %zu terms\n", spec.observation.size());
  std::printf("  %-18s %5s %7s  %-16s %6s %6s\n", "term", "size", "offset", "scale", "clip",
              "noise");
  int offset = 0;
  for (const robot::ObsTerm& t : spec.observation) {
    char clip[32];
    if (t.clip > 0) {
      std::snprintf(clip, sizeof(clip), "%g", t.clip);
    } else {
      std::snprintf(clip, sizeof(clip), "-");
    }
    std::printf("  %-18s %5d %7d  %-16s %6s %6g\n", t.term.c_str(), t.size, offset,
                format_scale(t.scale).c_str(), clip, t.noise);
    offset += t.size;
  }
  std::printf("  %-18s %5d\n", "total", spec.obs_size());
}

void print_model(const mjModel* m) {
  std::printf("\nmodel: nq %d, nv %d, nu %d, nbody %d, ngeom %d, timestep %g s\n",
              static_cast<int>(m->nq), static_cast<int>(m->nv), static_cast<int>(m->nu),
              static_cast<int>(m->nbody), static_cast<int>(m->ngeom), m->opt.timestep);
}

void print_support(const mjModel* m) {
  const std::vector<std::string> missing = sim::unsupported_features(m);
  if (missing.empty()) {
    std::printf("support: supported\n");
    return;
  }
  std::printf("support: NOT supported by the stampede kernels:\n");
  for (const std::string& f : missing) std::printf("  - %s\n", f.c_str());
}

// a bare MJCF: no contract, so list what the MJCF actuates
int info_mjcf(const std::string& path) {
  ModelPtr m(sim::load_mjcf(path));
  std::printf("MJCF %s (no robot.yaml: no contract)\n", path.c_str());
  std::printf("\nactuators: %d\n", static_cast<int>(m->nu));
  std::printf("  %3s  %-24s %-24s %8s  %-18s  %s\n", "idx", "actuator", "joint", "gear",
              "ctrlrange", "range (MJCF)");
  for (int i = 0; i < m->nu; ++i) {
    const char* act = mj_id2name(m.get(), mjOBJ_ACTUATOR, i);
    const bool on_joint = m->actuator_trntype[i] == mjTRN_JOINT;
    const int jnt = on_joint ? m->actuator_trnid[2 * i] : -1;
    const char* jname = jnt >= 0 ? mj_id2name(m.get(), mjOBJ_JOINT, jnt) : nullptr;
    char ctrl[48] = "unlimited";
    if (m->actuator_ctrllimited[i]) {
      std::snprintf(ctrl, sizeof(ctrl), "[%g, %g]", m->actuator_ctrlrange[2 * i],
                    m->actuator_ctrlrange[2 * i + 1]);
    }
    std::printf("  %3d  %-24s %-24s %8g  %-18s  %s\n", i, act ? act : "(unnamed)",
                jname ? jname : (on_joint ? "(unnamed)" : "(not a joint)"),
                m->actuator_gear[6 * i], ctrl, on_joint ? format_range(m.get(), jnt).c_str() : "-");
  }
  print_model(m.get());
  print_support(m.get());
  return 0;
}

int info_robot(const std::string& yaml_path) {
  const robot::RobotSpec spec = robot::load_robot(yaml_path);
  ModelPtr m(sim::load_mjcf(spec.mjcf));

  std::printf("robot %s (%s)\n", spec.name.c_str(), spec.path.c_str());
  std::printf("  mjcf: %s\n", spec.mjcf.c_str());
  print_joints(spec, m.get());
  print_observation(spec);
  std::printf("\naction: target = default + %g * clip(action, -%g, %g)\n", spec.action_scale,
              spec.action_clip, spec.action_clip);
  std::printf("control: period %g s, decimation %d (physics timestep %g s)\n",
              spec.control_period, spec.decimation, m->opt.timestep);
  std::string feet;
  for (const std::string& f : spec.feet) feet += (feet.empty() ? "" : ", ") + f;
  std::printf("frames: base %s, imu %s, feet %s\n", spec.base_body.c_str(), spec.imu_site.c_str(),
              feet.c_str());
  std::printf("contract hash: %s\n", robot::contract_hash(spec).c_str());
  print_model(m.get());

  // the description must fit the MJCF it names
  int rc = 0;
  try {
    sim::check_robot_against_model(spec, m.get());
    std::printf("robot.yaml vs MJCF: consistent\n");
  } catch (const robot::RobotError& e) {
    std::printf("robot.yaml vs MJCF: MISMATCH: %s\n", e.what());
    rc = 1;
  }
  print_support(m.get());
  return rc;
}

int run_info(const std::vector<std::string>& args) {
  std::string robot;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-h" || a == "--help") {
      print_help();
      return 0;
    }
    if (a == "--robot") {
      if (i + 1 >= args.size()) {
        std::fprintf(stderr, "stampede info: --robot needs a robot name or path\n");
        return 2;
      }
      robot = args[++i];
    } else if (a.rfind("--robot=", 0) == 0) {
      robot = a.substr(8);
    } else {
      std::fprintf(stderr, "stampede info: unknown argument '%s' (see stampede info --help)\n",
                   a.c_str());
      return 2;
    }
  }
  if (robot.empty()) {
    std::fprintf(stderr, "stampede info: --robot is required (see stampede info --help)\n");
    return 2;
  }
  if (has_suffix(robot, ".xml") || has_suffix(robot, ".mjcf")) {
    std::error_code ec;
    if (!fs::is_regular_file(robot, ec)) {
      throw std::runtime_error("MJCF file '" + robot + "' does not exist");
    }
    return info_mjcf(robot);
  }
  return info_robot(find_robot_yaml(robot));
}

const Registrar registrar("info", "describe a robot: joints, observation layout, contract, support",
                          run_info);

}  // namespace
}  // namespace stampede::cli
