// tests/kernels/test_forward.cpp — kernels/forward.inl: 1 s trajectories vs mj_step, the same
// results in every lane order, NaN states reset and flagged.
#include <catch2/catch.hpp>

#include <cstring>

#include "smooth_fixture.h"

using namespace stampede;
using kern::Stage;

TEST_CASE("1 s trajectories agree with mj_step (double, constraints disabled)", "[forward]") {
  double worst = 0;
  test::for_each_model<double>(2, mjDSBL_CONSTRAINT, 61, [&](const std::string& label, test::Bench<double>& b,
                                                            const test::RandomState& st, mjData* md) {
    const mjModel* m = b.mj.get();
    const int nstep = static_cast<int>(std::lround(1.0 / m->opt.timestep));
    kern::CpuExec exec;
    kern::step(b.m(), b.d(), exec, nstep);
    for (int w = 0; w < b.nworld; ++w) {
      test::set_mj_state(m, md, st, w);
      for (int s = 0; s < nstep; ++s) mj_step(m, md);
      double eq = test::rel_error(b.d().qpos.at(w), md->qpos, m->nq);
      double ev = test::rel_error(b.d().qvel.at(w), md->qvel, m->nv);
      worst = std::max({worst, eq, ev});
      INFO(label << ", world " << w << ": " << nstep << " steps, qpos err " << eq << ", qvel err " << ev);
      // rounding differences (~1e-15 per step) grow along a chaotic trajectory; 1e-7 leaves
      // three orders of magnitude over what we see and catches any modelling error
      CHECK(eq < 1e-7);
      CHECK(ev < 1e-7);
      CHECK(std::fabs(b.d().time.at(w)[0] - md->time) < 1e-9);
    }
  });
  WARN("largest 1 s trajectory error (relative): " << worst);
}

// run `nstep` steps on a fresh copy in the given lane order; return the arena bytes
template <class Real>
std::vector<unsigned char> run_in_order(const std::string& xml, kern::LaneOrder order, unsigned seed) {
  test::Bench<Real> b(test::load_xml_string(xml), 3, mjDSBL_CONSTRAINT);
  test::RandomState st = test::random_state(b.mj.get(), 3, 71);
  test::set_state(b.d(), st);
  kern::CpuExec exec;
  exec.lane_order = order;
  exec.seed = seed;
  kern::step(b.m(), b.d(), exec, 5);
  kern::run_stage(Stage::kForward, b.m(), b.d(), exec);
  const unsigned char* p = static_cast<const unsigned char*>(b.data->arena());
  return std::vector<unsigned char>(p, p + b.data->bytes());
}

template <class Real>
void check_lane_orders() {
  std::vector<std::string> xmls = {test::random_tree_xml(8, 30), test::random_tree_xml(9, 45)};
  std::ifstream f(std::string(MUJOCO_SAMPLES_DIR) + "/humanoid/humanoid.xml");
  xmls.push_back(std::string(std::istreambuf_iterator<char>(f), {}));
  for (const auto& xml : xmls) {
    auto fwd = run_in_order<Real>(xml, kern::LaneOrder::kForward, 1);
    auto rev = run_in_order<Real>(xml, kern::LaneOrder::kReverse, 1);
    CHECK(std::memcmp(fwd.data(), rev.data(), fwd.size()) == 0);
    for (unsigned seed : {1u, 2u, 3u}) {
      auto shuf = run_in_order<Real>(xml, kern::LaneOrder::kShuffled, seed);
      CHECK(std::memcmp(fwd.data(), shuf.data(), fwd.size()) == 0);
    }
  }
}

TEST_CASE("every stage gives bit-identical results in forward, reverse and shuffled lane order", "[forward][team]") {
  check_lane_orders<double>();
  check_lane_orders<float>();
}

TEST_CASE("a NaN state is reset to qpos0 and flagged", "[forward]") {
  test::Bench<double> b(test::load_xml_string(test::random_tree_xml(4, 6)), 2, mjDSBL_CONSTRAINT);
  test::RandomState st = test::random_state(b.mj.get(), 2, 3);
  test::set_state(b.d(), st);
  b.d().qvel.at(1)[0] = NAN;
  kern::CpuExec exec;
  kern::step(b.m(), b.d(), exec, 1);
  CHECK((b.d().warning_flags.at(1)[0] & kern::kWarnBadQacc) != 0);
  CHECK(b.d().warning_flags.at(0)[0] == 0);
  CHECK(b.d().time.at(1)[0] == Approx(b.mj->opt.timestep));
  for (int i = 0; i < b.mj->nv; ++i) CHECK(std::isfinite(b.d().qvel.at(1)[i]));
}

TEST_CASE("step on a thread pool equals step on one thread", "[forward]") {
  test::Bench<double> a(test::load_xml_string(test::random_tree_xml(5, 12)), 17, mjDSBL_CONSTRAINT);
  test::Bench<double> c(test::load_xml_string(test::random_tree_xml(5, 12)), 17, mjDSBL_CONSTRAINT);
  test::RandomState st = test::random_state(a.mj.get(), 17, 9);
  test::set_state(a.d(), st);
  test::set_state(c.d(), st);
  kern::ThreadPool pool(3);
  kern::CpuExec serial, threaded;
  threaded.pool = &pool;
  kern::step(a.m(), a.d(), serial, 20);
  kern::step(c.m(), c.d(), threaded, 20);
  CHECK(std::memcmp(a.data->arena(), c.data->arena(), a.data->bytes()) == 0);
}

// the masked reset (reset_masked_world: the CUDA backend's device-resident reset, and the CPU's
// reset_masked) on a stepped, flagged batch in the given lane order; returns the arena bytes
template <class Real>
std::vector<unsigned char> masked_reset_in_order(const std::string& xml, kern::LaneOrder order, unsigned seed,
                                                 bool by_list) {
  test::Bench<Real> b(test::load_xml_string(xml), 4, 0);
  test::RandomState st = test::random_state(b.mj.get(), 4, 17);
  test::set_state(b.d(), st);
  kern::CpuExec exec;
  exec.lane_order = order;
  exec.seed = seed;
  kern::step(b.m(), b.d(), exec, 3);
  for (int w = 0; w < 4; ++w) b.d().warning_flags.at(w)[0] = kern::kWarnContactOverflow;
  const unsigned char mask[4] = {0, 1, 0, 1};
  if (by_list) {  // what the CPU backend's reset(worlds) does
    const int worlds[2] = {1, 3};
    kern::run_stage_worlds(Stage::kReset, b.m(), b.d(), exec, worlds, 2);
    for (int w : worlds) b.d().warning_flags.at(w)[0] = 0;
  } else {
    kern::reset_masked(b.m(), b.d(), exec, mask);
  }
  // the unmasked worlds keep their state and flags
  CHECK(b.d().warning_flags.at(0)[0] == kern::kWarnContactOverflow);
  CHECK(b.d().warning_flags.at(1)[0] == 0);
  CHECK(b.d().time.at(1)[0] == 0);
  CHECK(b.d().time.at(2)[0] > 0);
  const unsigned char* p = static_cast<const unsigned char*>(b.data->arena());
  return std::vector<unsigned char>(p, p + b.data->bytes());
}

TEST_CASE("the masked reset resets exactly the masked worlds, the same in every lane order", "[forward][team]") {
  std::ifstream f(std::string(MUJOCO_SAMPLES_DIR) + "/humanoid/humanoid.xml");
  const std::vector<std::string> xmls = {test::random_tree_xml(8, 30),
                                         std::string(std::istreambuf_iterator<char>(f), {})};
  for (const auto& xml : xmls) {
    const auto list = masked_reset_in_order<double>(xml, kern::LaneOrder::kForward, 1, true);
    const auto fwd = masked_reset_in_order<double>(xml, kern::LaneOrder::kForward, 1, false);
    CHECK(std::memcmp(list.data(), fwd.data(), fwd.size()) == 0);
    const auto rev = masked_reset_in_order<double>(xml, kern::LaneOrder::kReverse, 1, false);
    CHECK(std::memcmp(fwd.data(), rev.data(), fwd.size()) == 0);
    for (unsigned seed : {1u, 2u, 3u}) {
      const auto shuf = masked_reset_in_order<double>(xml, kern::LaneOrder::kShuffled, seed, false);
      CHECK(std::memcmp(fwd.data(), shuf.data(), fwd.size()) == 0);
    }
  }
}
