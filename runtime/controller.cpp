// runtime/controller.cpp — the control cycle, damping mode and the latency report.
#include "runtime/controller.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace stampede::runtime {
namespace {

double steady_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// nearest-rank percentile of a copy
double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  const double rank = std::ceil(p * static_cast<double>(v.size()));
  const std::size_t k = std::min(v.size() - 1, static_cast<std::size_t>(std::max(1.0, rank)) - 1);
  std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
  return v[k];
}

bool all_finite(const std::vector<float>& v) {
  for (float x : v) {
    if (!std::isfinite(x)) return false;
  }
  return true;
}

constexpr int kNumKinds = 7;

std::string json_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') { out += "\\n"; continue; }
    out += c;
  }
  return out;
}

}  // namespace

Controller::Controller(const robot::RobotSpec& spec, Policy& policy, RobotIO& io, ControllerConfig config)
    : spec_(spec),
      policy_(policy),
      io_(io),
      config_(std::move(config)),
      observation_(spec),
      monitor_(spec, config_.limits, config_.safety),
      period_(spec.control_period),
      deadline_(config_.deadline > 0 ? config_.deadline : spec.control_period),
      gait_period_(config_.gait_period > 0 ? config_.gait_period : policy.gait_period()),
      logged_(kNumKinds, false) {
  check_contract(policy, spec);
  if (spec.obs_offset("gait_phase") >= 0 && !(gait_period_ > 0)) {
    throw std::invalid_argument("controller: the observation has a gait_phase term but the policy " + policy.source() +
                                " states no task.gait_period; give one (--gait-period)");
  }
  const std::size_t nj = spec.joints.size();
  reading_.joint_pos.assign(nj, 0.0);
  reading_.joint_vel.assign(nj, 0.0);
  obs_.assign(spec.obs_size(), 0.0f);
  action_.assign(nj, 0.0f);
  last_action_.assign(nj, 0.0f);
  command_.target.resize(nj);
  command_.kp.resize(nj);
  command_.kd.resize(nj);
  command_.torque_limit.resize(nj);
  for (std::size_t j = 0; j < nj; ++j) {
    command_.target[j] = spec.joints[j].default_pos;
    command_.kd[j] = spec.joints[j].kd;
    command_.torque_limit[j] = spec.joints[j].torque_limit;
  }
  monitor_.clamp_targets(command_.target.data());
}

void Controller::trigger(SafetyKind kind, const std::string& detail, double time) {
  damping_ = true;
  const int k = static_cast<int>(kind);
  if (logged_[k]) return;  // one event per kind: damping is latched, repeats add nothing
  logged_[k] = true;
  events_.push_back({cycle_, time, kind, detail});
  if (config_.on_event) config_.on_event(events_.back());
}

// targets = default + scale * clip(a), kept inside the joint limits
void Controller::policy_command() {
  const double clip = spec_.action_clip;
  for (std::size_t j = 0; j < spec_.joints.size(); ++j) {
    const double a = std::fmin(std::fmax(static_cast<double>(action_[j]), -clip), clip);
    last_action_[j] = static_cast<float>(a);
    command_.target[j] = spec_.joints[j].default_pos + spec_.action_scale * a;
    command_.kp[j] = spec_.joints[j].kp;
    command_.kd[j] = spec_.joints[j].kd;
  }
  monitor_.clamp_targets(command_.target.data());
}

// targets = current position (where finite), kp = 0, kd kept
void Controller::damping_command() {
  for (std::size_t j = 0; j < spec_.joints.size(); ++j) {
    const double q = reading_.joint_pos.size() > j ? reading_.joint_pos[j] : NAN;
    if (std::isfinite(q)) command_.target[j] = q;
    command_.kp[j] = 0;
    command_.kd[j] = spec_.joints[j].kd;
  }
  monitor_.clamp_targets(command_.target.data());
}

double gait_phase_at(long step, double period, double gait_period) {
  if (!(gait_period > 0)) return 0.0;
  const double t = static_cast<double>(step) * period;
  double ph = std::fmod(t, gait_period) / gait_period;
  ph -= std::floor(ph);
  return ph;
}

void Controller::step() {
  const double t0 = io_.now();
  io_.read(reading_);
  if (auto v = monitor_.check_sensors(reading_)) trigger(v->kind, v->detail, t0);
  double infer = 0;
  if (!damping_) {
    const double phase = gait_phase_at(static_cast<long>(cycle_), period_, gait_period_);
    observation_.build(obs_.data(), reading_, config_.command, last_action_.data(), phase);
    if (!all_finite(obs_)) {
      trigger(SafetyKind::kNanObservation, "observation is not finite", t0);
    } else {
      const double s0 = steady_seconds();
      policy_.act(obs_.data(), action_.data());
      infer = steady_seconds() - s0;
      if (!all_finite(action_)) trigger(SafetyKind::kNanAction, "policy action is not finite", t0);
    }
  }
  if (damping_) damping_command();
  else policy_command();
  // deadline: a late cycle sends damping now instead of its stale action
  const double latency = io_.now() - t0;
  if (latency > deadline_) {
    ++missed_;
    char buf[96];
    std::snprintf(buf, sizeof(buf), "cycle took %.3f ms, deadline %.3f ms", latency * 1e3, deadline_ * 1e3);
    trigger(SafetyKind::kDeadlineMiss, buf, t0);
    damping_command();
  }
  io_.write(command_);
  latency_.push_back(latency);
  if (infer > 0) infer_.push_back(infer);  // cycles that ran the policy
  ++cycle_;
}

void Controller::run(double duration) {
  const long cycles = static_cast<long>(std::ceil(duration / period_ - 1e-9));
  latency_.reserve(latency_.size() + cycles);
  infer_.reserve(infer_.size() + cycles);
  const double start = io_.start();
  for (long k = 0; k < cycles; ++k) {
    io_.wait_until(start + k * period_);
    step();
  }
  io_.wait_until(start + cycles * period_);  // let the last command act for its period
}

LatencyReport Controller::latency() const {
  LatencyReport r;
  r.cycles = cycle_;
  r.missed = missed_;
  r.deadline = deadline_;
  if (latency_.empty()) return r;
  r.p50 = percentile(latency_, 0.5);
  r.p99 = percentile(latency_, 0.99);
  r.max = *std::max_element(latency_.begin(), latency_.end());
  double sum = 0;
  for (double l : latency_) sum += l;
  r.mean = sum / latency_.size();
  if (!infer_.empty()) {
    r.infer_p50 = percentile(infer_, 0.5);
    r.infer_p99 = percentile(infer_, 0.99);
    r.infer_max = *std::max_element(infer_.begin(), infer_.end());
  }
  return r;
}

std::string Controller::report() const {
  const LatencyReport l = latency();
  char buf[512];
  std::snprintf(buf, sizeof(buf),
                "control cycles: %ld at %.1f Hz (period %.2f ms, deadline %.2f ms)\n"
                "cycle latency (read -> write): p50 %.1f us, p99 %.1f us, max %.1f us, mean %.1f us\n"
                "policy inference (cycles in policy mode): p50 %.1f us, p99 %.1f us, max %.1f us\n"
                "missed deadlines: %ld\n",
                l.cycles, 1.0 / period_, period_ * 1e3, l.deadline * 1e3, l.p50 * 1e6, l.p99 * 1e6, l.max * 1e6,
                l.mean * 1e6, l.infer_p50 * 1e6, l.infer_p99 * 1e6, l.infer_max * 1e6, l.missed);
  std::ostringstream s;
  s << buf << "mode at end: " << (damping_ ? "DAMPING" : "policy") << "\n";
  s << "safety events: " << events_.size() << "\n";
  for (const auto& e : events_) {
    std::snprintf(buf, sizeof(buf), "  cycle %ld t=%.3f s %s: ", e.cycle, e.time, to_string(e.kind));
    s << buf << e.detail << "\n";
  }
  return s.str();
}

std::string Controller::report_json() const {
  const LatencyReport l = latency();
  std::ostringstream s;
  s.precision(9);
  s << "{\"cycles\": " << l.cycles << ", \"period_s\": " << period_ << ", \"deadline_s\": " << l.deadline
    << ", \"missed_deadlines\": " << l.missed << ", \"latency_s\": {\"p50\": " << l.p50 << ", \"p99\": " << l.p99
    << ", \"max\": " << l.max << ", \"mean\": " << l.mean << "}, \"inference_s\": {\"p50\": " << l.infer_p50
    << ", \"p99\": " << l.infer_p99 << ", \"max\": " << l.infer_max << "}, \"damping\": " << (damping_ ? "true" : "false")
    << ", \"events\": [";
  for (std::size_t i = 0; i < events_.size(); ++i) {
    const auto& e = events_[i];
    s << (i ? ", " : "") << "{\"cycle\": " << e.cycle << ", \"time\": " << e.time << ", \"kind\": \""
      << to_string(e.kind) << "\", \"detail\": \"" << json_escape(e.detail) << "\"}";
  }
  s << "]}";
  return s.str();
}

}  // namespace stampede::runtime
