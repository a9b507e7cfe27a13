// tests/sim/render/test_render.cpp — sim/render: MuJoCo's renderer in a headless EGL context draws
// H1 (the image changes where the robot moves, the floor grid is there) and VideoWriter's file
// holds every frame; bad input is refused with a reason.
#include <catch2/catch.hpp>

#include <mujoco/mujoco.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "sim/render/offscreen.h"

namespace fs = std::filesystem;
using stampede::render::OffscreenRenderer;
using stampede::render::VideoWriter;

namespace {

struct ModelDeleter {
  void operator()(mjModel* m) const { mj_deleteModel(m); }
};

std::unique_ptr<mjModel, ModelDeleter> load_h1() {
  char err[1000] = "";
  mjModel* m = mj_loadXML(STAMPEDE_ASSETS_DIR "/h1/h1.xml", nullptr, err, sizeof(err));
  INFO(err);
  REQUIRE(m != nullptr);
  return std::unique_ptr<mjModel, ModelDeleter>(m);
}

std::string capture(const std::string& command) {
  std::string out;
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[512];
  while (std::fgets(buf, sizeof(buf), p)) out += buf;
  pclose(p);
  return out;
}

// pixels (of w*h) whose colour differs between a and b by more than 24 in some channel
int changed_pixels(const std::vector<unsigned char>& a, const std::vector<unsigned char>& b) {
  int n = 0;
  for (std::size_t i = 0; i + 2 < a.size(); i += 3)
    for (int c = 0; c < 3; ++c)
      if (std::abs(a[i + c] - b[i + c]) > 24) {
        ++n;
        break;
      }
  return n;
}

}  // namespace

TEST_CASE("the offscreen renderer draws H1 and follows its pose", "[render]") {
  auto m = load_h1();
  const int w = 160, h = 120;
  OffscreenRenderer r(m.get(), w, h);
  std::vector<double> qpos(m->qpos0, m->qpos0 + m->nq);
  std::vector<unsigned char> a(w * h * 3), b(a.size()), c(a.size());
  r.render(qpos.data(), a.data());
  // not one colour: robot, floor (with its grid) and sky
  int distinct = 0;
  for (std::size_t i = 3; i < a.size(); i += 3)
    distinct += a[i] != a[0] || a[i + 1] != a[1] || a[i + 2] != a[2];
  CHECK(distinct > w * h / 10);
  // the same pose gives the same frame (after the first, which moves the camera onto the body)
  r.render(qpos.data(), a.data());
  r.render(qpos.data(), c.data());
  CHECK(changed_pixels(a, c) == 0);
  // raise both shoulders (a hinge per shoulder pitch): the arms move in the frame
  for (const char* joint : {"left_shoulder_pitch", "right_shoulder_pitch"}) {
    const int j = mj_name2id(m.get(), mjOBJ_JOINT, joint);
    REQUIRE(j >= 0);
    qpos[m->jnt_qposadr[j]] = -1.5;
  }
  r.render(qpos.data(), b.data());
  const int moved = changed_pixels(a, b);
  CHECK(moved > 50);
  CHECK(moved < w * h / 3);  // the camera follows the base: the rest of the frame stays
}

TEST_CASE("VideoWriter encodes every frame through ffmpeg", "[render]") {
  REQUIRE_FALSE(stampede::render::find_ffmpeg().empty());
  const fs::path dir = fs::temp_directory_path() / ("stampede_render_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string path = (dir / "clip.mp4").string();
  {
    VideoWriter v(path, 64, 48, 25);
    std::vector<unsigned char> frame(64 * 48 * 3);
    for (int f = 0; f < 12; ++f) {
      for (std::size_t i = 0; i < frame.size(); ++i) frame[i] = static_cast<unsigned char>(i * 7 + f * 20);
      v.write(frame.data());
    }
    v.close();
    CHECK(v.frames() == 12);
  }
  CHECK(capture("ffprobe -v error -count_frames -select_streams v:0 -show_entries "
                "stream=nb_read_frames,width,height -of csv=p=0 " + path) == "64,48,12\n");
  CHECK_FALSE(fs::exists(path + ".ffmpeg.log"));  // removed after a clean finish

  // refusals, each with the reason
  CHECK_THROWS_WITH(VideoWriter((dir / "clip").string(), 64, 48, 25), Catch::Contains("no extension"));
  CHECK_THROWS_WITH(VideoWriter((dir / "odd.mp4").string(), 63, 48, 25), Catch::Contains("even width"));
  CHECK_THROWS_WITH(VideoWriter((dir / "nope" / "x.mp4").string(), 64, 48, 25),
                    Catch::Contains("does not exist"));
  // ffmpeg rejects the format: its own message comes back
  CHECK_THROWS_WITH(
      [&] {
        VideoWriter v((dir / "x.notaformat").string(), 64, 48, 25);
        std::vector<unsigned char> frame(64 * 48 * 3, 0);
        for (int f = 0; f < 200; ++f) v.write(frame.data());
        v.close();
      }(),
      Catch::Contains("ffmpeg"));
  // no ffmpeg on PATH
  const std::string saved = std::getenv("PATH") ? std::getenv("PATH") : "";
  setenv("PATH", dir.c_str(), 1);
  CHECK_THROWS_WITH(VideoWriter((dir / "y.mp4").string(), 64, 48, 25), Catch::Contains("needs ffmpeg on PATH"));
  setenv("PATH", saved.c_str(), 1);
  fs::remove_all(dir);
}

TEST_CASE("the renderer refuses what it cannot draw", "[render]") {
  auto m = load_h1();
  CHECK_THROWS_WITH(OffscreenRenderer(nullptr, 64, 48), Catch::Contains("no model"));
  CHECK_THROWS_WITH(OffscreenRenderer(m.get(), 8, 48), Catch::Contains("outside 16..8192"));
}
