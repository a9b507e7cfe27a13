// tests/assets/test_assets.cpp — the robots under assets/ (MJCF + robot.yaml) against MuJoCo 4.
// robot.yaml is read with yaml-cpp directly, so these tests check the files themselves and do not
// depend on the robot-description parser (tests/sim/robot covers that one).
#include <catch2/catch.hpp>
#include <mujoco/mujoco.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

// one actuated joint as robot.yaml states it
struct AssetJoint {
  std::string name;
  std::string actuator;
  double default_pos = 0;
  double kp = 0;
  double kd = 0;
  double torque_limit = 0;
};

// the fields of robot.yaml these tests need
struct Asset {
  std::string name;
  std::string mjcf;  // resolved path
  std::vector<AssetJoint> joints;
  double period = 0;
  int decimation = 0;
  std::string base;
  std::string imu;
  std::vector<std::string> feet;
};

Asset read_asset(const std::string& robot) {
  const fs::path yaml_path = fs::path(STAMPEDE_ASSETS_DIR) / robot / "robot.yaml";
  const YAML::Node y = YAML::LoadFile(yaml_path.string());
  Asset a;
  a.name = y["name"].as<std::string>();
  a.mjcf = (yaml_path.parent_path() / y["mjcf"].as<std::string>()).string();
  for (const YAML::Node& j : y["joints"]) {
    AssetJoint aj;
    aj.name = j["name"].as<std::string>();
    aj.actuator = j["actuator"] ? j["actuator"].as<std::string>() : aj.name;
    aj.default_pos = j["default"].as<double>();
    aj.kp = j["kp"].as<double>();
    aj.kd = j["kd"].as<double>();
    aj.torque_limit = j["torque_limit"].as<double>();
    a.joints.push_back(aj);
  }
  a.period = y["control"]["period"].as<double>();
  a.decimation = y["control"]["decimation"].as<int>();
  a.base = y["frames"]["base"].as<std::string>();
  a.imu = y["frames"]["imu"].as<std::string>();
  for (const YAML::Node& f : y["frames"]["feet"]) a.feet.push_back(f.as<std::string>());
  return a;
}

// MuJoCo warnings raised while loading or stepping (mju_user_warning is a global hook)
std::vector<std::string> g_warnings;
void record_warning(const char* msg) { g_warnings.emplace_back(msg); }

struct ModelDeleter {
  void operator()(mjModel* m) const { mj_deleteModel(m); }
};
struct DataDeleter {
  void operator()(mjData* d) const { mj_deleteData(d); }
};
using ModelPtr = std::unique_ptr<mjModel, ModelDeleter>;
using DataPtr = std::unique_ptr<mjData, DataDeleter>;

// load an MJCF; error holds MuJoCo's message (also any load-time warning)
ModelPtr load_model(const std::string& path, std::string& error) {
  char err[1024] = "";
  ModelPtr m(mj_loadXML(path.c_str(), nullptr, err, sizeof(err)));
  error = err;
  return m;
}

int id_of(const mjModel* m, mjtObj type, const std::string& name) {
  return mj_name2id(m, type, name.c_str());
}

bool is_floor(const mjModel* m, int geom) { return m->geom_bodyid[geom] == 0; }

// lowest and highest world z of a primitive geom, from its current pose in d
void geom_z_extent(const mjModel* m, const mjData* d, int g, double& lo, double& hi) {
  const double* R = d->geom_xmat + 9 * g;  // row-major: R[6..8] is the world-z row
  const double* s = m->geom_size + 3 * g;
  double e = 0;
  switch (m->geom_type[g]) {
    case mjGEOM_SPHERE: e = s[0]; break;
    case mjGEOM_CAPSULE: e = std::abs(R[8]) * s[1] + s[0]; break;
    case mjGEOM_BOX: e = std::abs(R[6]) * s[0] + std::abs(R[7]) * s[1] + std::abs(R[8]) * s[2]; break;
    default: FAIL("geom " << g << " is not a sphere, capsule or box");
  }
  lo = d->geom_xpos[3 * g + 2] - e;
  hi = d->geom_xpos[3 * g + 2] + e;
}

// height of a robot's lowest foot point and of its top, at the state in d (after mj_kinematics)
struct Extent {
  double feet_lo = 1e9;   // lowest point of the foot geoms
  double other_lo = 1e9;  // lowest point of every other robot geom
  double top = -1e9;      // highest point of the robot
};

Extent robot_extent(const mjModel* m, const mjData* d, const std::set<int>& foot_bodies) {
  Extent x;
  for (int g = 0; g < m->ngeom; ++g) {
    if (is_floor(m, g)) continue;
    double lo, hi;
    geom_z_extent(m, d, g, lo, hi);
    if (foot_bodies.count(m->geom_bodyid[g])) {
      x.feet_lo = std::min(x.feet_lo, lo);
    } else {
      x.other_lo = std::min(x.other_lo, lo);
    }
    x.top = std::max(x.top, hi);
  }
  return x;
}

// one robot loaded in MuJoCo with its robot.yaml bound to model indices
struct Loaded {
  Asset asset;
  ModelPtr model;
  std::vector<int> qposadr, dofadr, actuator;  // per robot.yaml joint
  int base = -1, home = -1;
  std::set<int> feet;
};

Loaded load_robot_asset(const std::string& robot) {
  Loaded r;
  r.asset = read_asset(robot);
  std::string error;
  r.model = load_model(r.asset.mjcf, error);
  INFO(r.asset.mjcf << ": " << error);
  REQUIRE(r.model);
  const mjModel* m = r.model.get();
  for (const AssetJoint& j : r.asset.joints) {
    const int jid = id_of(m, mjOBJ_JOINT, j.name);
    const int aid = id_of(m, mjOBJ_ACTUATOR, j.actuator);
    INFO("joint " << j.name);
    REQUIRE(jid >= 0);
    REQUIRE(aid >= 0);
    r.qposadr.push_back(m->jnt_qposadr[jid]);
    r.dofadr.push_back(m->jnt_dofadr[jid]);
    r.actuator.push_back(aid);
  }
  r.base = id_of(m, mjOBJ_BODY, r.asset.base);
  r.home = id_of(m, mjOBJ_KEY, "home");
  REQUIRE(r.base > 0);
  REQUIRE(r.home >= 0);
  for (const std::string& f : r.asset.feet) {
    const int b = id_of(m, mjOBJ_BODY, f);
    INFO("foot " << f);
    REQUIRE(b > 0);
    r.feet.insert(b);
  }
  return r;
}

// PD torque on every joint of robot.yaml, clipped to its limit, written to ctrl
void pd_control(const Loaded& r, mjData* d, bool torque_on) {
  for (size_t i = 0; i < r.asset.joints.size(); ++i) {
    const AssetJoint& j = r.asset.joints[i];
    double tau = j.kp * (j.default_pos - d->qpos[r.qposadr[i]]) - j.kd * d->qvel[r.dofadr[i]];
    tau = std::clamp(tau, -j.torque_limit, j.torque_limit);
    d->ctrl[r.actuator[i]] = torque_on ? tau : 0.0;
  }
}

// what happened while the robot stood from the home keyframe
struct StandResult {
  double start_height = 0;     // base height at the keyframe (m)
  double min_height = 1e9;     // lowest base height (m)
  double max_tilt = 0;         // largest angle between base z and world z (rad)
  int non_foot_contacts = 0;   // contact-steps between the floor and a non-foot geom
  int robot_self_contacts = 0; // contact-steps between two robot geoms
  int max_ncon = 0;            // most contacts in one step
  double mean_ncon = 0;        // contacts per step
  double final_speed = 0;      // base linear speed at the end (m/s)
  int warnings = 0;            // mjData warning count after the run
};

StandResult stand(const Loaded& r, double seconds, bool torque_on) {
  const mjModel* m = r.model.get();
  DataPtr data(mj_makeData(m));
  mjData* d = data.get();
  mj_resetDataKeyframe(m, d, r.home);
  mj_forward(m, d);
  StandResult s;
  s.start_height = d->xpos[3 * r.base + 2];
  const int steps = static_cast<int>(std::lround(seconds / m->opt.timestep));
  long total_ncon = 0;
  for (int t = 0; t < steps; ++t) {
    pd_control(r, d, torque_on);
    mj_step(m, d);
    s.min_height = std::min(s.min_height, d->xpos[3 * r.base + 2]);
    s.max_tilt = std::max(s.max_tilt, std::acos(std::clamp(d->xmat[9 * r.base + 8], -1.0, 1.0)));
    for (int c = 0; c < d->ncon; ++c) {
      const int g1 = d->contact[c].geom[0], g2 = d->contact[c].geom[1];
      if (!is_floor(m, g1) && !is_floor(m, g2)) {
        ++s.robot_self_contacts;
        continue;
      }
      const int robot_geom = is_floor(m, g1) ? g2 : g1;
      if (!r.feet.count(m->geom_bodyid[robot_geom])) ++s.non_foot_contacts;
    }
    s.max_ncon = std::max(s.max_ncon, d->ncon);
    total_ncon += d->ncon;
  }
  s.mean_ncon = static_cast<double>(total_ncon) / steps;
  const double* v = d->qvel;  // free joint: linear velocity first
  s.final_speed = std::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
  for (int w = 0; w < mjNWARNING; ++w) s.warnings += d->warning[w].number;
  return s;
}

const char* const kRobots[] = {"humanoid", "h1"};

}  // namespace

TEST_CASE("assets: every robot's MJCF loads in MuJoCo 4 without errors or warnings", "[assets]") {
  for (const char* robot : kRobots) {
    INFO(robot);
    const Asset a = read_asset(robot);
    g_warnings.clear();
    auto* previous = mju_user_warning;
    mju_user_warning = record_warning;
    std::string error;
    ModelPtr m = load_model(a.mjcf, error);
    mju_user_warning = previous;
    INFO(error);
    REQUIRE(m);
    CHECK(error.empty());
    CHECK(g_warnings.empty());
    CHECK(a.name == robot);
  }
}

TEST_CASE("assets: simulation options are the ones the task expects", "[assets]") {
  for (const char* robot : kRobots) {
    INFO(robot);
    const Loaded r = load_robot_asset(robot);
    const mjModel* m = r.model.get();
    CHECK(m->opt.timestep == 0.005);
    CHECK(m->opt.integrator == mjINT_EULER);
    CHECK(m->opt.solver == mjSOL_NEWTON);
    CHECK(m->opt.cone == mjCONE_PYRAMIDAL);
    // period == timestep * decimation (relative 1e-9: 0.005 * 4 is not exactly 0.02 in binary)
    CHECK(std::abs(m->opt.timestep * r.asset.decimation - r.asset.period) <= 1e-9 * r.asset.period);
  }
}

TEST_CASE("assets: every robot.yaml joint is a limited hinge driven by its own torque motor", "[assets]") {
  for (const char* robot : kRobots) {
    INFO(robot);
    const Loaded r = load_robot_asset(robot);
    const mjModel* m = r.model.get();
    // every actuator is one robot.yaml joint's motor, and every hinge is actuated
    CHECK(m->nu == static_cast<int>(r.asset.joints.size()));
    CHECK(m->njnt == static_cast<int>(r.asset.joints.size()) + 1);
    CHECK(m->jnt_type[m->body_jntadr[r.base]] == mjJNT_FREE);
    std::set<int> actuators(r.actuator.begin(), r.actuator.end());
    CHECK(actuators.size() == r.asset.joints.size());
    for (size_t i = 0; i < r.asset.joints.size(); ++i) {
      const AssetJoint& j = r.asset.joints[i];
      INFO("joint " << j.name);
      const int jid = id_of(m, mjOBJ_JOINT, j.name);
      const int a = r.actuator[i];
      CHECK(j.actuator == j.name);
      CHECK(m->jnt_type[jid] == mjJNT_HINGE);
      CHECK(m->jnt_limited[jid]);
      CHECK(j.default_pos > m->jnt_range[2 * jid]);
      CHECK(j.default_pos < m->jnt_range[2 * jid + 1]);
      CHECK(j.kp > 0);
      CHECK(j.kd >= 0);
      // a motor: transmission to this joint, gear 1, ctrl passed through as torque
      CHECK(m->actuator_trntype[a] == mjTRN_JOINT);
      CHECK(m->actuator_trnid[2 * a] == jid);
      CHECK(m->actuator_gear[6 * a] == 1.0);
      CHECK(m->actuator_dyntype[a] == mjDYN_NONE);
      CHECK(m->actuator_gaintype[a] == mjGAIN_FIXED);
      CHECK(m->actuator_gainprm[mjNGAIN * a] == 1.0);
      CHECK(m->actuator_biastype[a] == mjBIAS_NONE);
      CHECK(m->actuator_ctrllimited[a]);
      CHECK(m->actuator_ctrlrange[2 * a] == -j.torque_limit);
      CHECK(m->actuator_ctrlrange[2 * a + 1] == j.torque_limit);
    }
  }
}

TEST_CASE("assets: frames exist and the home keyframe is the default pose with feet on the floor", "[assets]") {
  for (const char* robot : kRobots) {
    INFO(robot);
    const Loaded r = load_robot_asset(robot);
    const mjModel* m = r.model.get();
    CHECK(id_of(m, mjOBJ_SITE, r.asset.imu) >= 0);
    CHECK(m->site_bodyid[id_of(m, mjOBJ_SITE, r.asset.imu)] == r.base);
    CHECK(r.feet.size() == 2);
    DataPtr data(mj_makeData(m));
    mjData* d = data.get();
    mj_resetDataKeyframe(m, d, r.home);
    for (size_t i = 0; i < r.asset.joints.size(); ++i) {
      INFO("joint " << r.asset.joints[i].name);
      CHECK(d->qpos[r.qposadr[i]] == Approx(r.asset.joints[i].default_pos).margin(1e-12));
    }
    mj_kinematics(m, d);
    const Extent x = robot_extent(m, d, r.feet);
    // the keyframe height puts the soles on the floor (rounded to 0.1 mm in the MJCF)
    CHECK(std::abs(x.feet_lo) < 2e-4);
    CHECK(x.other_lo > x.feet_lo + 0.03);  // nothing else is near the floor
  }
}

TEST_CASE("assets: h1 has the mass, height and collision geometry of an H1-class robot", "[assets]") {
  const Loaded r = load_robot_asset("h1");
  const mjModel* m = r.model.get();
  CHECK(r.asset.joints.size() == 19);
  CHECK(m->body_subtreemass[0] >= 45.0);
  CHECK(m->body_subtreemass[0] <= 50.0);
  for (int b = 1; b < m->nbody; ++b) CHECK(m->body_mass[b] > 0);

  DataPtr data(mj_makeData(m));
  mjData* d = data.get();
  mj_resetDataKeyframe(m, d, r.home);
  mj_kinematics(m, d);
  const double height = robot_extent(m, d, r.feet).top - robot_extent(m, d, r.feet).feet_lo;
  INFO("standing height " << height);
  CHECK(height >= 1.7);
  CHECK(height <= 1.9);

  // thigh and shank are about 0.4 m: hip pitch -> knee -> ankle
  const auto body_dist = [&](const char* a, const char* b) {
    const double* p = d->xpos + 3 * id_of(m, mjOBJ_BODY, a);
    const double* q = d->xpos + 3 * id_of(m, mjOBJ_BODY, b);
    return std::sqrt((p[0] - q[0]) * (p[0] - q[0]) + (p[1] - q[1]) * (p[1] - q[1]) + (p[2] - q[2]) * (p[2] - q[2]));
  };
  CHECK(body_dist("left_hip_pitch_link", "left_knee_link") == Approx(0.4).margin(0.03));
  CHECK(body_dist("left_knee_link", "left_ankle_link") == Approx(0.4).margin(0.03));

  // collision only from primitives; each foot is exactly one box
  int floors = 0;
  for (int g = 0; g < m->ngeom; ++g) {
    if (is_floor(m, g)) {
      ++floors;
      continue;
    }
    const int t = m->geom_type[g];
    CHECK((t == mjGEOM_CAPSULE || t == mjGEOM_SPHERE || t == mjGEOM_BOX));
  }
  CHECK(floors == 1);
  for (int foot : r.feet) {
    CHECK(m->body_geomnum[foot] == 1);
    CHECK(m->geom_type[m->body_geomadr[foot]] == mjGEOM_BOX);
  }
  const int floor = id_of(m, mjOBJ_GEOM, "floor");
  REQUIRE(floor >= 0);
  CHECK(m->geom_type[floor] == mjGEOM_PLANE);
}

TEST_CASE("assets: robots collide with the floor only, never with themselves", "[assets]") {
  for (const char* robot : kRobots) {
    INFO(robot);
    const Loaded r = load_robot_asset(robot);
    const mjModel* m = r.model.get();
    const auto can_collide = [&](int a, int b) {
      return (m->geom_contype[a] & m->geom_conaffinity[b]) || (m->geom_contype[b] & m->geom_conaffinity[a]);
    };
    const int floor = id_of(m, mjOBJ_GEOM, "floor");
    REQUIRE(floor >= 0);
    std::string floor_misses, self_pairs;
    for (int a = 0; a < m->ngeom; ++a) {
      if (a == floor) continue;
      if (!can_collide(a, floor)) floor_misses += std::to_string(a) + " ";
      for (int b = a + 1; b < m->ngeom; ++b) {
        if (b != floor && can_collide(a, b)) self_pairs += std::to_string(a) + "-" + std::to_string(b) + " ";
      }
    }
    CHECK(floor_misses == "");  // geom ids that cannot touch the floor
    CHECK(self_pairs == "");    // geom id pairs that can collide with each other
  }
}

TEST_CASE("assets: PD control at the default pose keeps each robot standing for 5 s", "[assets]") {
  for (const char* robot : kRobots) {
    INFO(robot);
    const Loaded r = load_robot_asset(robot);
    const StandResult s = stand(r, 5.0, true);
    INFO("start height " << s.start_height << ", lowest " << s.min_height << ", max tilt " << s.max_tilt
                         << ", mean ncon " << s.mean_ncon << ", final speed " << s.final_speed);
    CHECK(s.min_height > 0.8 * s.start_height);
    CHECK(s.max_tilt < 0.3);
    CHECK(s.non_foot_contacts == 0);
    CHECK(s.robot_self_contacts == 0);
    CHECK(s.warnings == 0);
    // standing still at the end, not toppling slowly
    CHECK(s.final_speed < 0.05);
    // few contacts: at most 4 per foot (box or capsule on a plane)
    CHECK(s.mean_ncon > 0);
    CHECK(s.max_ncon <= 4 * static_cast<int>(r.feet.size()));
  }
}

TEST_CASE("assets: without torque each robot falls, so the standing check can fail", "[assets]") {
  for (const char* robot : kRobots) {
    INFO(robot);
    const Loaded r = load_robot_asset(robot);
    const StandResult s = stand(r, 5.0, false);
    INFO("start height " << s.start_height << ", lowest " << s.min_height << ", max tilt " << s.max_tilt);
    CHECK((s.min_height < 0.8 * s.start_height || s.max_tilt > 0.3 || s.non_foot_contacts > 0));
  }
}
