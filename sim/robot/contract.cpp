// sim/robot/contract.cpp — the robot contract as canonical text, its SHA-256, and the fields in
// which two contracts differ. The text is one `field=value` line per contract field, in a fixed
// order, with doubles at round-trip precision (%.17g), so it depends on the values only: not on
// key order, whitespace, comments, YAML style, the file's path or the robot's name.
#include <charconv>
#include <map>
#include <sstream>
#include <utility>

#include "sim/robot/robot.h"
#include "sim/robot/sha256.h"

namespace stampede::robot {
namespace {

constexpr const char* kContractVersion = "1";  // bump when the canonical text changes shape

// %.17g, but locale-independent (to_chars); -0 prints as 0
std::string num(double v) {
  if (v == 0) v = 0;  // folds -0 into +0
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::general, 17);
  return std::string(buf, r.ptr);
}

// names are free text: escape the characters the canonical text uses as separators
std::string esc(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\\') out += "\\\\";
    else if (c == ',') out += "\\,";
    else if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else out += c;
  }
  return out;
}

// canonical text -> (field, value) lines in order
std::vector<std::pair<std::string, std::string>> split_fields(const std::string& text) {
  std::vector<std::pair<std::string, std::string>> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const auto eq = line.find('=');
    if (eq == std::string::npos) out.emplace_back(line, "");
    else out.emplace_back(line.substr(0, eq), line.substr(eq + 1));
  }
  return out;
}

}  // namespace

std::string canonical_contract(const RobotSpec& spec) {
  std::ostringstream s;
  s << "contract.version=" << kContractVersion << "\n";
  // joints, in policy order
  s << "joints.count=" << spec.joints.size() << "\n";
  for (std::size_t i = 0; i < spec.joints.size(); ++i) {
    const JointSpec& j = spec.joints[i];
    const std::string p = "joints[" + std::to_string(i) + "].";
    s << p << "name=" << esc(j.name) << "\n";
    s << p << "actuator=" << esc(j.actuator) << "\n";
    s << p << "default=" << num(j.default_pos) << "\n";
    s << p << "kp=" << num(j.kp) << "\n";
    s << p << "kd=" << num(j.kd) << "\n";
    s << p << "torque_limit=" << num(j.torque_limit) << "\n";
  }
  // action and control
  s << "action.scale=" << num(spec.action_scale) << "\n";
  s << "action.clip=" << num(spec.action_clip) << "\n";
  s << "control.period=" << num(spec.control_period) << "\n";
  s << "control.decimation=" << spec.decimation << "\n";
  // observation layout
  s << "observation.count=" << spec.observation.size() << "\n";
  s << "observation.size=" << spec.obs_size() << "\n";
  for (std::size_t i = 0; i < spec.observation.size(); ++i) {
    const ObsTerm& t = spec.observation[i];
    const std::string p = "observation[" + std::to_string(i) + "].";
    s << p << "term=" << esc(t.term) << "\n";
    s << p << "size=" << t.size << "\n";
    s << p << "scale=";
    for (std::size_t k = 0; k < t.scale.size(); ++k) s << (k ? "," : "") << num(t.scale[k]);
    s << "\n";
    s << p << "clip=" << num(t.clip) << "\n";
    s << p << "noise=" << num(t.noise) << "\n";
  }
  // frames
  s << "frames.base=" << esc(spec.base_body) << "\n";
  s << "frames.imu=" << esc(spec.imu_site) << "\n";
  s << "frames.feet=";
  for (std::size_t k = 0; k < spec.feet.size(); ++k) s << (k ? "," : "") << esc(spec.feet[k]);
  s << "\n";
  return s.str();
}

std::string contract_hash(const RobotSpec& spec) { return sha256_hex(canonical_contract(spec)); }

std::vector<std::string> contract_diff(const std::string& canonical_a, const std::string& canonical_b) {
  const auto a = split_fields(canonical_a);
  const auto b = split_fields(canonical_b);
  std::map<std::string, std::string> b_values(b.begin(), b.end());
  std::map<std::string, bool> in_a;
  std::vector<std::string> out;
  // fields of a, in a's order, then fields only b has
  for (const auto& [field, value] : a) {
    in_a[field] = true;
    const auto it = b_values.find(field);
    if (it == b_values.end()) out.push_back(field + ": " + value + " vs (absent)");
    else if (it->second != value) out.push_back(field + ": " + value + " vs " + it->second);
  }
  for (const auto& [field, value] : b) {
    if (!in_a.count(field)) out.push_back(field + ": (absent) vs " + value);
  }
  return out;
}

}  // namespace stampede::robot
