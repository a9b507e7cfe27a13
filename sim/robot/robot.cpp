// sim/robot/robot.cpp — robot.yaml parsing and validation. Every error names the file, the
// 1-based line, the field path and what was expected: "h1/robot.yaml:14: joints[3].kp: ...".
#include "sim/robot/robot.h"

#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <sstream>

namespace stampede::robot {
namespace {

namespace fs = std::filesystem;

// "joints" + "kp" -> "joints.kp"; "" + "name" -> "name"
std::string join(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

std::string indexed(const std::string& path, std::size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

std::string describe(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Null: return "an empty value";
    case YAML::NodeType::Map: return "a map";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Scalar: return "'" + n.Scalar() + "'";
    default: return "nothing";
  }
}

// a field as found in the file: its value and the line it was written on
struct Field {
  YAML::Node value;
  std::string path;  // "joints[3].kp"
  int line;          // 1-based
};

// reads one robot.yaml into a RobotSpec, failing with file:line: field: expectation
class Reader {
 public:
  Reader(const std::string& file, RobotSpec& spec) : file_(file), spec_(spec) {}

  [[noreturn]] void fail(int line, const std::string& field, const std::string& what) const {
    throw RobotError(file_ + ":" + std::to_string(line) + ": " + (field.empty() ? "(top level)" : field) +
                     ": " + what);
  }
  [[noreturn]] void fail(const Field& f, const std::string& what) const { fail(f.line, f.path, what); }

  static int line_of(const YAML::Node& n, int fallback) {
    const int l = n.Mark().line;
    return l >= 0 ? l + 1 : fallback;
  }

  // a map whose keys are all in `allowed`, each given once
  void check_map(const Field& f, std::initializer_list<const char*> allowed) const {
    if (!f.value.IsMap()) fail(f, "expected a map, got " + describe(f.value));
    std::vector<std::string> seen;
    for (auto it = f.value.begin(); it != f.value.end(); ++it) {
      const int line = line_of(it->first, f.line);
      if (!it->first.IsScalar()) fail(line, f.path, "expected a field name, got " + describe(it->first));
      const std::string key = it->first.Scalar();
      bool known = false;
      std::string names;
      for (const char* a : allowed) {
        known = known || key == a;
        names += (names.empty() ? "" : ", ") + std::string(a);
      }
      if (!known) fail(line, join(f.path, key), "unknown field (expected one of: " + names + ")");
      for (const auto& s : seen) {
        if (s == key) fail(line, join(f.path, key), "field given twice");
      }
      seen.push_back(key);
    }
  }

  // the value under `key` of a map already checked by check_map, or an undefined Field
  Field child(const Field& map, const char* key) const {
    for (auto it = map.value.begin(); it != map.value.end(); ++it) {
      if (it->first.Scalar() != key) continue;
      // an empty value's mark points past it: use the key's line
      const int key_line = line_of(it->first, map.line);
      const int line = it->second.IsNull() ? key_line : line_of(it->second, key_line);
      return {it->second, join(map.path, key), line};
    }
    return {YAML::Node(YAML::NodeType::Undefined), join(map.path, key), map.line};
  }

  Field require(const Field& map, const char* key) const {
    Field f = child(map, key);
    if (!f.value.IsDefined()) fail(map.line, f.path, "missing required field");
    return f;
  }

  Field element(const Field& list, std::size_t i) const {
    const YAML::Node v = list.value[i];
    return {v, indexed(list.path, i), v.IsNull() ? list.line : line_of(v, list.line)};
  }

  void record(const Field& f) { spec_.lines[f.path] = f.line; }

  double number(const Field& f) {
    if (!f.value.IsScalar()) fail(f, "expected a number, got " + describe(f.value));
    // a quoted scalar is a string in YAML, even when it looks like a number
    if (f.value.Tag() == "!") fail(f, "expected a number, got the quoted string " + describe(f.value));
    double v = 0;
    try {
      v = f.value.as<double>();
    } catch (const YAML::Exception&) {
      fail(f, "expected a number, got " + describe(f.value));
    }
    if (!std::isfinite(v)) fail(f, "expected a finite number, got " + describe(f.value));
    record(f);
    return v;
  }

  double positive(const Field& f) {
    const double v = number(f);
    if (!(v > 0)) fail(f, "expected a number > 0, got " + f.value.Scalar());
    return v;
  }

  double non_negative(const Field& f) {
    const double v = number(f);
    if (v < 0) fail(f, "expected a number >= 0, got " + f.value.Scalar());
    return v;
  }

  int integer(const Field& f) {
    if (!f.value.IsScalar() || f.value.Tag() == "!") {
      fail(f, "expected an integer, got " + describe(f.value));
    }
    int v = 0;
    try {
      v = f.value.as<int>();
    } catch (const YAML::Exception&) {
      fail(f, "expected an integer, got " + describe(f.value));
    }
    record(f);
    return v;
  }

  std::string text(const Field& f) {
    if (!f.value.IsScalar()) fail(f, "expected a name, got " + describe(f.value));
    const std::string s = f.value.Scalar();
    if (s.empty()) fail(f, "expected a non-empty name");
    record(f);
    return s;
  }

  void list(const Field& f, const std::string& of) const {
    if (!f.value.IsSequence()) fail(f, "expected a list of " + of + ", got " + describe(f.value));
    if (f.value.size() == 0) fail(f, "expected a non-empty list of " + of);
  }

  // sections, in dependency order: observation sizes need the joint count
  void top(const Field& root);
  void joints(const Field& f);
  void action(const Field& f);
  void control(const Field& f);
  void observation(const Field& f);
  void obs_term(const Field& f);
  void frames(const Field& f);

 private:
  std::string file_;
  RobotSpec& spec_;
};

void Reader::top(const Field& root) {
  if (!root.value.IsMap()) {
    fail(root, "expected a robot description (a map with name, mjcf, joints, action, control, "
               "observation, frames), got " + describe(root.value));
  }
  check_map(root, {"name", "mjcf", "joints", "action", "control", "observation", "frames"});
  spec_.name = text(require(root, "name"));
  const std::string mjcf = text(require(root, "mjcf"));
  const fs::path dir = fs::path(file_).parent_path();
  spec_.mjcf = (fs::path(mjcf).is_absolute() || dir.empty()) ? mjcf : (dir / mjcf).string();
  joints(require(root, "joints"));
  action(require(root, "action"));
  control(require(root, "control"));
  observation(require(root, "observation"));
  frames(require(root, "frames"));
}

void Reader::joints(const Field& f) {
  list(f, "joints");
  for (std::size_t i = 0; i < f.value.size(); ++i) {
    const Field e = element(f, i);
    check_map(e, {"name", "actuator", "default", "kp", "kd", "torque_limit"});
    JointSpec j;
    j.line = e.line;
    j.name = text(require(e, "name"));
    const Field act = child(e, "actuator");
    j.actuator = act.value.IsDefined() ? text(act) : j.name;
    if (!act.value.IsDefined()) spec_.lines[act.path] = e.line;
    j.default_pos = number(require(e, "default"));
    j.kp = positive(require(e, "kp"));
    j.kd = non_negative(require(e, "kd"));
    j.torque_limit = positive(require(e, "torque_limit"));
    for (std::size_t k = 0; k < spec_.joints.size(); ++k) {
      const JointSpec& o = spec_.joints[k];
      if (o.name == j.name) {
        fail(spec_.line_of(join(e.path, "name")), join(e.path, "name"),
             "joint '" + j.name + "' listed twice (first as " + indexed(f.path, k) + ", line " +
                 std::to_string(o.line) + "); expected each joint once");
      }
      if (o.actuator == j.actuator) {
        fail(spec_.line_of(join(e.path, "actuator")), join(e.path, "actuator"),
             "actuator '" + j.actuator + "' already drives " + indexed(f.path, k) + " ('" + o.name +
                 "'); expected one actuator per joint");
      }
    }
    spec_.joints.push_back(j);
  }
}

void Reader::action(const Field& f) {
  check_map(f, {"scale", "clip"});
  spec_.action_scale = positive(require(f, "scale"));
  spec_.action_clip = positive(require(f, "clip"));
}

void Reader::control(const Field& f) {
  check_map(f, {"period", "decimation"});
  spec_.control_period = positive(require(f, "period"));
  const Field d = require(f, "decimation");
  spec_.decimation = integer(d);
  if (spec_.decimation < 1) {
    fail(d, "expected an integer >= 1 (physics steps per policy step), got " +
                std::to_string(spec_.decimation));
  }
}

void Reader::observation(const Field& f) {
  list(f, "observation terms");
  for (std::size_t i = 0; i < f.value.size(); ++i) obs_term(element(f, i));
}

void Reader::obs_term(const Field& e) {
  check_map(e, {"term", "scale", "clip", "noise"});
  ObsTerm t;
  const Field name = require(e, "term");
  t.term = text(name);
  t.size = observation_term_size(t.term, spec_.num_joints());
  if (t.size < 0) {
    std::string known;
    for (const auto& k : observation_terms()) known += (known.empty() ? "" : ", ") + k;
    fail(name, "unknown observation term '" + t.term + "' (expected one of: " + known + ")");
  }
  for (const auto& o : spec_.observation) {
    if (o.term == t.term) fail(name, "observation term '" + t.term + "' listed twice; expected each term once");
  }
  const Field scale = child(e, "scale");
  if (!scale.value.IsDefined()) {
    t.scale.assign(t.size, 1.0);
  } else if (scale.value.IsSequence()) {
    if (static_cast<int>(scale.value.size()) != t.size) {
      fail(scale, "expected a scalar or a list of " + std::to_string(t.size) + " scales (one per " +
                      "component of " + t.term + "), got a list of " + std::to_string(scale.value.size()));
    }
    for (std::size_t k = 0; k < scale.value.size(); ++k) t.scale.push_back(positive(element(scale, k)));
  } else {
    if (!scale.value.IsScalar()) {
      fail(scale, "expected a number > 0 or a list of " + std::to_string(t.size) + ", got " +
                      describe(scale.value));
    }
    t.scale.assign(t.size, positive(scale));
  }
  const Field clip = child(e, "clip");
  t.clip = clip.value.IsDefined() ? non_negative(clip) : 0.0;
  const Field noise = child(e, "noise");
  t.noise = noise.value.IsDefined() ? non_negative(noise) : 0.0;
  spec_.observation.push_back(t);
}

void Reader::frames(const Field& f) {
  check_map(f, {"base", "imu", "feet"});
  spec_.base_body = text(require(f, "base"));
  spec_.imu_site = text(require(f, "imu"));
  const Field feet = require(f, "feet");
  list(feet, "foot bodies");
  for (std::size_t i = 0; i < feet.value.size(); ++i) {
    const Field e = element(feet, i);
    const std::string body = text(e);
    for (const auto& o : spec_.feet) {
      if (o == body) fail(e, "foot body '" + body + "' listed twice; expected each foot once");
    }
    spec_.feet.push_back(body);
  }
}

}  // namespace

const std::vector<std::string>& observation_terms() {
  static const std::vector<std::string> terms = {
      "base_lin_vel", "base_ang_vel", "projected_gravity", "commands",
      "joint_pos",    "joint_vel",    "last_action",       "gait_phase"};
  return terms;
}

int observation_term_size(const std::string& term, int num_joints) {
  if (term == "base_lin_vel" || term == "base_ang_vel" || term == "projected_gravity" ||
      term == "commands") {
    return 3;
  }
  if (term == "joint_pos" || term == "joint_vel" || term == "last_action") return num_joints;
  if (term == "gait_phase") return 2;  // sin, cos
  return -1;
}

int RobotSpec::obs_size() const {
  int n = 0;
  for (const auto& t : observation) n += t.size;
  return n;
}

int RobotSpec::line_of(const std::string& field) const {
  const auto it = lines.find(field);
  return it == lines.end() ? 0 : it->second;
}

int RobotSpec::joint_index(const std::string& joint) const {
  for (int i = 0; i < num_joints(); ++i) {
    if (joints[i].name == joint) return i;
  }
  return -1;
}

int RobotSpec::obs_offset(const std::string& term) const {
  int offset = 0;
  for (const auto& t : observation) {
    if (t.term == term) return offset;
    offset += t.size;
  }
  return -1;
}

RobotSpec parse_robot(const std::string& yaml_text, const std::string& path_for_errors) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    throw RobotError(path_for_errors + ":" + std::to_string(e.mark.line + 1) + ": invalid YAML: " + e.msg);
  }
  RobotSpec spec;
  spec.path = path_for_errors;
  Reader reader(path_for_errors, spec);
  reader.top({root, "", root.IsNull() ? 1 : Reader::line_of(root, 1)});
  return spec;
}

RobotSpec load_robot(const std::string& path) {
  std::error_code ec;
  const bool is_dir = fs::is_directory(path, ec);
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in || is_dir) {
    const std::string why = is_dir ? "it is a directory" : errno ? std::strerror(errno) : "cannot open";
    throw RobotError(path + ": cannot read the robot description (" + why +
                     "); expected a robot.yaml file or a robot name under assets/");
  }
  std::stringstream text;
  text << in.rdbuf();
  RobotSpec spec = parse_robot(text.str(), path);
  if (!fs::is_regular_file(spec.mjcf, ec)) {
    throw RobotError(path + ":" + std::to_string(spec.line_of("mjcf")) + ": mjcf: MJCF file '" +
                     spec.mjcf + "' does not exist; expected a path relative to " + path);
  }
  return spec;
}

std::string resolve_robot_path(const std::string& name_or_path, const std::string& assets_dir) {
  std::error_code ec;
  const fs::path in_assets = fs::path(assets_dir) / name_or_path / "robot.yaml";
  if (!name_or_path.empty() && fs::is_regular_file(in_assets, ec)) return in_assets.string();
  const fs::path in_dir = fs::path(name_or_path) / "robot.yaml";
  if (fs::is_directory(name_or_path, ec) && fs::is_regular_file(in_dir, ec)) return in_dir.string();
  return name_or_path;
}

}  // namespace stampede::robot
