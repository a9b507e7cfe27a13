// tests/runtime/test_policy.cpp — loading a policy and refusing one whose contract differs.
#include <catch2/catch.hpp>

#include <regex>

#include "runtime/policy.h"
#include "tests/runtime/runtime_test_util.h"

using namespace stampede;

namespace {

runtime::Policy policy_for(const robot::RobotSpec& spec) {
  return runtime::Policy::from_bytes(test::policy_bytes(test::random_mlp(test::default_sizes(spec), 7), spec), "p.onnx");
}

// the small robot's YAML with one substring replaced (must occur exactly once)
robot::RobotSpec edited(const std::string& from, const std::string& to) {
  std::string yaml = test::kSmallRobotYaml;
  const auto at = yaml.find(from);
  REQUIRE(at != std::string::npos);
  REQUIRE(yaml.find(from, at + 1) == std::string::npos);
  yaml.replace(at, from.size(), to);
  return test::small_robot(yaml);
}

}  // namespace

TEST_CASE("a policy whose contract matches the robot is accepted") {
  const robot::RobotSpec spec = test::small_robot();
  const runtime::Policy p = policy_for(spec);
  CHECK(p.obs_dim() == spec.obs_size());
  CHECK(p.act_dim() == spec.num_joints());
  CHECK(p.contract_hash() == robot::contract_hash(spec));
  CHECK_NOTHROW(runtime::check_contract(p, spec));
}

TEST_CASE("a policy is refused when one contract field differs, naming that field") {
  const robot::RobotSpec trained = test::small_robot();
  const runtime::Policy p = policy_for(trained);
  struct Case { const char* from; const char* to; const char* field; };
  const Case cases[] = {
      {"kp: 60.0", "kp: 65.0", "joints[1].kp"},
      {"kd: 0.5", "kd: 0.7", "joints[2].kd"},
      {"default: 0.1", "default: 0.15", "joints[0].default"},
      {"torque_limit: 40.0", "torque_limit: 45.0", "joints[1].torque_limit"},
      {"name: knee", "name: knee2", "joints[1].name"},
      {"scale: 0.5, clip: 2.0", "scale: 0.25, clip: 2.0", "action.scale"},
      {"scale: 0.5, clip: 2.0", "scale: 0.5, clip: 3.0", "action.clip"},
      {"period: 0.02", "period: 0.025", "control.period"},
      {"decimation: 4", "decimation: 5", "control.decimation"},
      {"scale: [2.0, 2.0, 0.25]", "scale: [2.0, 2.0, 0.5]", "observation[3].scale"},
      {"scale: 0.25, clip: 0.5", "scale: 0.25, clip: 0.6", "observation[1].clip"},
      {"imu: imu", "imu: imu2", "frames.imu"},
  };
  for (const Case& c : cases) {
    INFO(c.field);
    const robot::RobotSpec robot_spec = edited(c.from, c.to);
    try {
      runtime::check_contract(p, robot_spec);
      FAIL("policy accepted although " << c.field << " differs");
    } catch (const runtime::ContractMismatch& e) {
      // one field differs (a renamed joint also renames its default actuator)
      REQUIRE(e.fields().size() == (std::string(c.field) == "joints[1].name" ? 2u : 1u));
      CHECK(e.fields()[0].rfind(std::string(c.field) + ":", 0) == 0);
      CHECK_THAT(e.what(), Catch::Contains(c.field) && Catch::Contains("p.onnx") && Catch::Contains("mismatch"));
    }
  }
}

TEST_CASE("a policy is refused when the joint order differs, naming the joints") {
  const robot::RobotSpec trained = test::small_robot();
  const runtime::Policy p = policy_for(trained);
  std::string yaml = test::kSmallRobotYaml;
  // swap hip and knee lines
  const std::string hip = "  - {name: hip,   default: 0.1,  kp: 50.0, kd: 1.0, torque_limit: 30.0}\n";
  const std::string knee = "  - {name: knee,  default: -0.2, kp: 60.0, kd: 1.5, torque_limit: 40.0}\n";
  yaml.replace(yaml.find(hip), hip.size(), "");
  yaml.insert(yaml.find(knee) + knee.size(), hip);
  try {
    runtime::check_contract(p, test::small_robot(yaml));
    FAIL("policy accepted with a different joint order");
  } catch (const runtime::ContractMismatch& e) {
    CHECK_THAT(e.what(), Catch::Contains("joints[0].name: hip vs knee") && Catch::Contains("joints[1].name: knee vs hip"));
  }
}

TEST_CASE("a policy with a different observation layout or a tampered hash is refused") {
  const robot::RobotSpec trained = test::small_robot();
  SECTION("a term removed") {
    const runtime::Policy p = policy_for(trained);
    const robot::RobotSpec fewer = edited("  - {term: base_lin_vel, scale: 2.0}\n", "");
    REQUIRE_THROWS_AS(runtime::check_contract(p, fewer), runtime::ContractMismatch);
    REQUIRE_THROWS_WITH(runtime::check_contract(p, fewer), Catch::Contains("observation.size: 23 vs 20"));
  }
  SECTION("stated hash is not the hash of the text") {
    test::TestModel m = test::mlp_model(test::random_mlp(test::default_sizes(trained), 8));
    m.metadata["stampede.format"] = "stampede-policy-1";
    m.metadata["stampede.contract"] = robot::canonical_contract(trained);
    m.metadata["stampede.contract_hash"] = std::string(64, 'a');
    const runtime::Policy p = runtime::Policy::from_bytes(m.serialize(), "bad.onnx");
    REQUIRE_THROWS_WITH(runtime::check_contract(p, trained), Catch::Contains("corrupted"));
  }
  SECTION("no contract at all") {
    test::TestModel m = test::mlp_model(test::random_mlp(test::default_sizes(trained), 9));
    m.metadata["stampede.format"] = "stampede-policy-1";
    REQUIRE_THROWS_WITH(runtime::Policy::from_bytes(m.serialize(), "none.onnx"), Catch::Contains("no robot contract"));
  }
  SECTION("not a stampede policy") {
    const test::TestModel m = test::mlp_model(test::random_mlp(test::default_sizes(trained), 10));
    REQUIRE_THROWS_WITH(runtime::Policy::from_bytes(m.serialize(), "other.onnx"), Catch::Contains("stampede.format"));
  }
}
