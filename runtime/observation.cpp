// runtime/observation.cpp — sensor readings -> observation vector.
#include "runtime/observation.h"

#include <cmath>
#include <stdexcept>
#include <utility>

namespace stampede::runtime {

void projected_gravity(double res[3], const double q[4]) {
  // third row of R(q) is R^T e_z; gravity is -e_z
  const double w = q[0], x = q[1], y = q[2], z = q[3];
  const double n = w * w + x * x + y * y + z * z;
  const double s = n > 0 ? 2.0 / n : 0.0;  // tolerate a not-quite-unit quaternion
  res[0] = -(s * (x * z - w * y));
  res[1] = -(s * (y * z + w * x));
  res[2] = -(1.0 - s * (x * x + y * y));
}

ObservationBuilder::ObservationBuilder(const robot::RobotSpec& spec) : spec_(spec), size_(spec.obs_size()) {
  for (const auto& t : spec.observation) {
    if (robot::observation_term_size(t.term, spec.num_joints()) != t.size ||
        static_cast<int>(t.scale.size()) != t.size) {
      throw std::invalid_argument(spec.path + ": observation term '" + t.term + "' has inconsistent sizes");
    }
    static const std::pair<const char*, Term> kinds[] = {
        {"base_lin_vel", Term::kBaseLinVel}, {"base_ang_vel", Term::kBaseAngVel},
        {"projected_gravity", Term::kGravity}, {"commands", Term::kCommands},
        {"joint_pos", Term::kJointPos},       {"joint_vel", Term::kJointVel},
        {"last_action", Term::kLastAction},   {"gait_phase", Term::kGaitPhase}};
    bool known = false;
    for (const auto& [name, kind] : kinds) {
      if (t.term == name) {
        terms_.push_back(kind);
        known = true;
      }
    }
    if (!known) throw std::invalid_argument(spec.path + ": observation term '" + t.term + "' is not known to the runtime");
  }
}

bool ObservationBuilder::needs_base_lin_vel() const { return spec_.obs_offset("base_lin_vel") >= 0; }

void ObservationBuilder::build(float* obs, const SensorReading& s, const double command[3],
                               const float* last_action, double gait_phase) const {
  double gravity[3];
  projected_gravity(gravity, s.imu_quat);
  const double two_pi_phase = 2.0 * M_PI * gait_phase;
  int k = 0;
  for (std::size_t i = 0; i < terms_.size(); ++i) {
    const robot::ObsTerm& t = spec_.observation[i];
    for (int c = 0; c < t.size; ++c) {
      double v = 0;
      switch (terms_[i]) {
        case Term::kBaseLinVel: v = s.base_lin_vel[c]; break;
        case Term::kBaseAngVel: v = s.imu_ang_vel[c]; break;
        case Term::kGravity: v = gravity[c]; break;
        case Term::kCommands: v = command[c]; break;
        case Term::kJointPos: v = s.joint_pos[c] - spec_.joints[c].default_pos; break;
        case Term::kJointVel: v = s.joint_vel[c]; break;
        case Term::kLastAction: v = last_action[c]; break;
        case Term::kGaitPhase: v = c == 0 ? std::sin(two_pi_phase) : std::cos(two_pi_phase); break;
      }
      v *= t.scale[c];
      if (t.clip > 0) v = v < -t.clip ? -t.clip : v > t.clip ? t.clip : v;
      obs[k++] = static_cast<float>(v);
    }
  }
}

}  // namespace stampede::runtime
