// runtime/controller.h — the deployment control loop. Each cycle, at the control period:
//   read sensors -> safety checks -> observation -> policy -> clip(action) -> PD targets
//   (default + scale * clip(a), inside the joint limits) -> write
// with the latency of every cycle (read to write) recorded against its deadline. Any safety
// violation, or a cycle that misses its deadline, switches to damping mode for good (targets =
// current position, kp = 0, kd kept) and logs an event; only a restart leaves damping mode.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "runtime/observation.h"
#include "runtime/policy.h"
#include "runtime/robot_io.h"
#include "runtime/safety.h"

namespace stampede::runtime {

struct ControllerConfig {
  double command[3] = {0, 0, 0};  // (vx m/s, vy m/s, yaw rate rad/s)
  double gait_period = 0;         // s per gait cycle (gait_phase term): phase = t / period mod 1;
                                  // <= 0: the policy's (metadata task.gait_period)
  double deadline = 0;            // s from sensor read to command write; <= 0: the control period
  SafetyConfig safety;
  JointLimits limits;             // empty: unlimited
  std::function<void(const SafetyEvent&)> on_event;  // called as events happen (may be empty)
};

// latency figures over the cycles run so far, in seconds
struct LatencyReport {
  long cycles = 0;
  long missed = 0;              // cycles over the deadline
  double deadline = 0;
  double p50 = 0, p99 = 0, max = 0, mean = 0;              // read -> write
  double infer_p50 = 0, infer_p99 = 0, infer_max = 0;      // policy evaluation alone
};

// the gait clock's phase in [0, 1) at control cycle `step`, computed exactly as the training task
// computes it (sim/tasks/locomotion_kernels.h, gait_phase_world: fmod(step * dt, T) / T, wrapped)
// so that the gait_phase observation is bit-identical; 0 when gait_period is not positive
double gait_phase_at(long step, double period, double gait_period);

class Controller {
 public:
  // checks the policy's contract against the robot (throws ContractMismatch)
  Controller(const robot::RobotSpec& spec, Policy& policy, RobotIO& io, ControllerConfig config);

  void step();                  // one control cycle
  void run(double duration);    // ceil(duration / period) cycles at the control period

  bool damping() const { return damping_; }
  long cycle() const { return cycle_; }
  const JointCommand& last_command() const { return command_; }
  const std::vector<float>& last_observation() const { return obs_; }
  const std::vector<float>& last_action() const { return action_; }   // raw policy output
  const std::vector<SafetyEvent>& events() const { return events_; }
  LatencyReport latency() const;
  std::string report() const;   // latency and events, human-readable
  std::string report_json() const;

 private:
  void trigger(SafetyKind kind, const std::string& detail, double time);
  void policy_command();
  void damping_command();

  const robot::RobotSpec& spec_;
  Policy& policy_;
  RobotIO& io_;
  ControllerConfig config_;
  ObservationBuilder observation_;
  SafetyMonitor monitor_;
  double period_, deadline_, gait_period_;

  SensorReading reading_;
  std::vector<float> obs_, action_, last_action_;  // last_action_: clipped, fed back as observation
  JointCommand command_;
  bool damping_ = false;
  long cycle_ = 0;
  long missed_ = 0;
  std::vector<double> latency_, infer_;            // per cycle, s
  std::vector<SafetyEvent> events_;
  std::vector<bool> logged_;                       // per SafetyKind: already logged
};

}  // namespace stampede::runtime
