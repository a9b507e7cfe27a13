// tests/sim/api/test_sim_api_errors.cpp — every kind of bad input to the public simulator API
// is refused with an exception that says what was wrong, never a crash.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "stampede/sim.h"

namespace {

namespace ss = stampede::sim;
using Catch::Matchers::Contains;

const std::string kHumanoid = std::string(STAMPEDE_ASSETS_DIR) + "/humanoid/humanoid.xml";

std::string write_temp(const std::string& text, const std::string& name) {
  auto path = std::filesystem::temp_directory_path() / name;
  std::ofstream(path) << text;
  return path.string();
}

ss::ArrayView host(std::vector<double>& v, std::vector<std::int64_t> shape) {
  ss::ArrayView a;
  a.data = v.data();
  a.dtype = ss::DType::kFloat64;
  a.shape = std::move(shape);
  a.writable = true;
  return a;
}

}  // namespace

TEST_CASE("load refuses missing, malformed and unsupported models, naming the problem", "[simapi]") {
  CHECK_THROWS_AS(ss::load("/nonexistent/robot.xml"), std::invalid_argument);
  CHECK_THROWS_WITH(ss::load("/nonexistent/robot.xml"), Contains("/nonexistent/robot.xml"));

  std::string bad = write_temp("<mujoco><worldbody><body><geom type='sphere'/></worldbody>", "simapi_bad.xml");
  CHECK_THROWS_AS(ss::load(bad), std::invalid_argument);

  // a tendon and an actuator with dynamics: both named
  std::string unsupported = write_temp(
      "<mujoco><worldbody><body><joint name='a' type='hinge'/><geom size='0.1'/>"
      "<body pos='0 0 -0.3'><joint name='b' type='hinge'/><geom size='0.1'/></body></body></worldbody>"
      "<tendon><fixed name='t'><joint joint='a' coef='1'/><joint joint='b' coef='1'/></fixed></tendon>"
      "<actuator><general joint='a' dyntype='filter'/></actuator></mujoco>",
      "simapi_unsupported.xml");
  CHECK_THROWS_AS(ss::load(unsupported), std::invalid_argument);
  CHECK_THROWS_WITH(ss::load(unsupported), Contains("tendons") && Contains("actuator dynamics"));
  std::filesystem::remove(bad);
  std::filesystem::remove(unsupported);
}

TEST_CASE("Batch refuses unknown backends and dtypes, float32 on mujoco and no worlds", "[simapi]") {
  ss::CompiledModel m = ss::load(kHumanoid);
  CHECK_THROWS_WITH(ss::Batch(m, 4, "tpu"), Contains("unknown backend 'tpu'"));
  CHECK_THROWS_WITH(ss::Batch(m, 4, "cpu", "float16"), Contains("unknown dtype 'float16'"));
  CHECK_THROWS_WITH(ss::Batch(m, 4, "mujoco", "float32"), Contains("float64 only"));
  CHECK_THROWS_AS(ss::Batch(m, 0, "cpu"), std::invalid_argument);
  CHECK_THROWS_AS(ss::Batch(ss::CompiledModel(), 4, "cpu"), std::invalid_argument);
}

TEST_CASE("the cuda backend without a device is a clear error", "[simapi]") {
  ss::CompiledModel m = ss::load(kHumanoid);
  // this test runs where no GPU is: with one, constructing succeeds and there is nothing to refuse
  try {
    ss::Batch sim(m, 4, "cuda", "float32");
    WARN("a CUDA device is present: the cuda backend was constructed");
    CHECK(sim.backend() == "cuda");
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    CHECK((what.find("no CUDA device") != std::string::npos || what.find("no CUDA support") != std::string::npos));
  }
}

TEST_CASE("views refuse the wrong dtype, writes to outputs and wrong shapes", "[simapi]") {
  ss::CompiledModel m = ss::load(kHumanoid);
  ss::Batch sim(m, 3, "cpu", "float32", 1);
  CHECK(sim.qpos().shape == std::vector<std::int64_t>{3, m.nq()});
  CHECK(sim.xfrc_applied().shape == std::vector<std::int64_t>{3, m.nbody(), 6});
  CHECK(sim.act().shape == std::vector<std::int64_t>{3, 0});
  CHECK_THROWS_WITH(sim.qpos().as<double>(), Contains("'qpos' holds float32"));
  CHECK_THROWS_WITH(sim.qacc().as<float>(), Contains("read-only"));
  CHECK_NOTHROW(sim.qacc().as<const float>());
  CHECK_THROWS_AS(sim.ncon().as<const float>(), std::invalid_argument);

  std::vector<double> good(3 * m.nq(), 0.0), wrong(2 * m.nq(), 0.0);
  CHECK_NOTHROW(sim.qpos().copy_from(host(good, {3, m.nq()})));
  CHECK_THROWS_WITH(sim.qpos().copy_from(host(wrong, {2, m.nq()})), Contains("expected shape (3, " + std::to_string(m.nq()) + ")"));
  CHECK_THROWS_WITH(sim.qacc().copy_from(host(good, {3, m.nv()})), Contains("read-only"));
}

TEST_CASE("world indices out of range and negative steps are refused", "[simapi]") {
  ss::CompiledModel m = ss::load(kHumanoid);
  ss::Batch sim(m, 3, "cpu", "float64", 1);
  CHECK_THROWS_AS(sim.reset({0, 3}), std::out_of_range);
  CHECK_THROWS_AS(sim.reset({-1}), std::out_of_range);
  CHECK_THROWS_AS(sim.contact(3), std::out_of_range);
  CHECK_THROWS_AS(sim.contact(-1), std::out_of_range);
  CHECK_THROWS_AS(sim.step(-1), std::invalid_argument);
  CHECK_NOTHROW(sim.reset(std::vector<int>{}));
}

TEST_CASE("set_model_field refuses unknown fields and wrong sizes", "[simapi]") {
  ss::CompiledModel m = ss::load(kHumanoid);
  for (const char* backend : {"cpu", "mujoco"}) {
    INFO(backend);
    ss::Batch sim(m, 3, backend, "float64", 1);
    CHECK_THROWS_AS(sim.set_model_field("geom_frobnication", std::vector<double>(3, 1.0)), std::invalid_argument);
    CHECK_THROWS_WITH(sim.set_model_field("geom_friction", std::vector<double>(5, 1.0)),
                      Contains("expected " + std::to_string(3 * m.ngeom()) + " values"));
    std::vector<int> ints(3 * m.ngeom(), 1);
    ss::ArrayView iv;
    iv.data = ints.data();
    iv.dtype = ss::DType::kInt32;
    iv.shape = {static_cast<std::int64_t>(ints.size())};
    CHECK_THROWS_WITH(sim.set_model_field("geom_friction", iv), Contains("int32"));
    CHECK_NOTHROW(sim.set_model_field("geom_friction", std::vector<double>(3 * m.ngeom(), 0.7)));
    CHECK_NOTHROW(sim.set_model_field("opt_gravity", std::vector<double>{0, 0, -1.62}));
    std::vector<double> g = sim.model_field("opt.gravity");
    CHECK(g.size() == 9);
    CHECK(g[8] == -1.62);
  }
}
