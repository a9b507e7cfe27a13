// runtime/transfer_target.h — what the transfer benchmark (docs/TRANSFER.md) asks of the dynamics
// it runs a policy against, and what a condition does there independent of the engine.
//
// A TransferTarget is a RobotIO on a simulator that also reports falls, heading velocity, torque
// and energy. Two implement it: TransferIO (MuJoCo, runtime/transfer.h) and TrainingIO (our
// training simulator's CPU kernel backend, runtime/io_training.h). Both own a ConditionEffects,
// so a perturbation means the same on both:
//   friction       sliding friction of every geom set to the value (the engine takes the max of a pair)
//   mass           kg added to the base body
//   motor_strength tau = s (kp (target - q) - kd qd), then clipped to the torque limit
//   kp, kd         the robot's gains are these multiples of the commanded ones
//   latency        a command reaches the motors this many control steps late
//   sensor_noise   uniform sensor noise, this multiple of robot.yaml's per-term noise half-widths
//   push           every push interval, U(-v, v) m/s added to the base's x and y velocities
// The engine applies friction, mass and pushes (perturbed_friction, perturbed_base_mass,
// ConditionEffects::push); ConditionEffects does the rest.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "runtime/robot_io.h"
#include "runtime/safety.h"
#include "sim/robot/robot.h"

struct mjModel_;

namespace stampede::runtime {

// perturbation names in the order they are reported, and their nominal (unperturbed) values
const std::vector<std::string>& perturbation_names();
double nominal_value(const std::string& name);  // throws std::invalid_argument for an unknown name

// one condition: "nominal", or one perturbation at one value
struct Condition {
  std::string name = "nominal";
  double value = 0;
  std::string label() const;  // "nominal", "friction=0.5", "latency=2"
};

// --perturb name=lo:hi[:n] -> n conditions (default 3) evenly spaced in [lo, hi]; throws
// std::invalid_argument naming the part that is wrong
std::vector<Condition> parse_perturb(const std::string& text);

// what ends an episode as a fall (the task's termination section)
struct FallCriteria {
  double min_base_height = 0;               // m, 0: off
  double max_tilt = 0;                      // rad between the base z axis and vertical, 0: off
  bool base_contact = true;                 // a contact on the base body is a fall
  std::vector<std::string> contact_bodies;  // and on these bodies
};

// per body of the model: 1 when a contact on it is a fall (the base with base_contact, and the
// contact_bodies); throws std::runtime_error naming `mjcf` and an unknown body
std::vector<char> fall_bodies(const mjModel_* m, int base_body, const FallCriteria& fall, const std::string& mjcf);
// the fall rules on a state: base height (m), the z component of the base z axis in the world,
// whether a contact touches a fall body. A non-finite height is a fall.
bool is_fall(const FallCriteria& fall, double base_height, double base_up_z, bool fall_contact);
// the base's forward velocity in the heading frame: world (vx, vy) projected on the yaw of the
// base x axis, m/s
double heading_velocity(double vx, double vy, double yaw);

// the model values a condition sets: geom sliding friction, base mass (kg); the mass throws
// std::runtime_error (naming `where`) when it would make the base mass <= 0
double perturbed_friction(double friction, const Condition& c);
double perturbed_base_mass(double mass, const Condition& c, const std::string& where);

// what a condition does to the motors, the sensors and the base, whatever the engine: the latency
// queue, the PD law with perturbed strength and gains, sensor noise, the push schedule (seeded
// stream), and the torque and energy sums over physics steps
class ConditionEffects {
 public:
  // throws std::invalid_argument for an unknown perturbation
  ConditionEffects(const robot::RobotSpec& spec, const Condition& condition, uint64_t seed, double push_interval);

  const Condition& condition() const { return condition_; }

  // a command reaches the motors `latency` writes (control steps) later; before the first one does,
  // they hold the default pose at the robot's gains
  void write(const JointCommand& cmd);
  const JointCommand& applied() const { return applied_; }
  // the torque of joint j (policy order) at its state, N·m: runtime/robot_io.h pd_torque with the
  // condition's strength and gain multiples
  double torque(std::size_t j, double q, double qd) const;
  // one joint's torque over one physics step of dt s: |tau| and |tau qd| dt summed
  void account(double tau, double qd, double dt);
  double mean_abs_torque() const { return torque_samples_ ? abs_torque_sum_ / torque_samples_ : 0; }
  double energy() const { return energy_; }  // J

  // sensor_noise: uniform noise on the raw readings, per observation term, as the training task
  // adds it; the projected_gravity noise tilts the IMU orientation about its x and y axes
  void add_sensor_noise(SensorReading& r);

  // push: true when a push is due at simulated time t (physics step dt); then dv holds the
  // (x, y) velocity change, m/s, and the next push is one interval later
  bool push(double t, double dt, double dv[2]);

 private:
  const robot::RobotSpec& spec_;
  Condition condition_;
  double strength_ = 1, kp_scale_ = 1, kd_scale_ = 1;
  std::size_t latency_ = 0;              // control steps
  double push_interval_;
  double next_push_;
  std::vector<JointCommand> pending_;    // commands not yet at the motors
  JointCommand applied_;                 // what the motors do now
  std::mt19937_64 rng_;
  double abs_torque_sum_ = 0, energy_ = 0;
  long torque_samples_ = 0;
};

// a simulator the transfer benchmark runs the runtime against, with one condition applied
class TransferTarget : public RobotIO {
 public:
  TransferTarget(const robot::RobotSpec& spec, const Condition& condition, uint64_t seed, double push_interval)
      : effects_(spec, condition, seed, push_interval) {}

  void write(const JointCommand& cmd) final { effects_.write(cmd); }
  double now() final { return sim_time(); }  // simulated time: transfer measures dynamics, not timing

  virtual JointLimits joint_limits() const = 0;
  virtual void set_fall_criteria(const FallCriteria& fall) = 0;  // throws std::runtime_error for an unknown body
  virtual bool fallen() const = 0;               // at the current state
  virtual double heading_velocity() const = 0;   // base forward velocity in the heading frame, m/s
  virtual double sim_time() const = 0;           // s
  // the generalized state in MJCF order (free joint: x y z, quaternion w x y z), for robot logs
  virtual int nq() const = 0;
  virtual int nv() const = 0;
  virtual const double* qpos() const = 0;
  virtual const double* qvel() const = 0;
  // the torque the motors apply at the current state (the command now at the motors, after any
  // latency, with the perturbed gains and strength), N·m, policy order
  virtual void command_torques(double* tau) const = 0;

  // accumulated over physics steps: sum |tau| / (steps * nj), sum |tau qd| dt
  double mean_abs_torque() const { return effects_.mean_abs_torque(); }
  double energy() const { return effects_.energy(); }  // J

 protected:
  ConditionEffects effects_;
};

}  // namespace stampede::runtime
