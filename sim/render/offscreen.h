// sim/render/offscreen.h — headless rendering of a MuJoCo model: MuJoCo's renderer (mjv/mjr) in
// an EGL context of its own (surfaceless; Mesa's software rasterizer where there is no GPU), and
// a video file written by an ffmpeg child process. Used by `stampede play --video`.
#pragma once

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

struct mjModel_;
typedef struct mjModel_ mjModel;

namespace stampede::render {

// One offscreen view of a model. The constructor copies the model (its offscreen buffer is sized
// to the frame) and throws std::runtime_error naming what is missing when no EGL display or
// OpenGL context can be had. Use it from one thread (the EGL context is current there).
class OffscreenRenderer {
 public:
  OffscreenRenderer(const mjModel* model, int width, int height);
  ~OffscreenRenderer();
  OffscreenRenderer(const OffscreenRenderer&) = delete;
  OffscreenRenderer& operator=(const OffscreenRenderer&) = delete;

  int width() const { return width_; }
  int height() const { return height_; }
  // the camera follows `body` (default: the first body below the world) at `distance` metres
  // (default: from the model's extent), seen from `azimuth`/`elevation` degrees
  void track(int body, double distance, double azimuth = 135, double elevation = -15);
  // renders the model posed at generalized positions qpos (nq values): kinematics, then the
  // scene; rgb receives width x height x 3 bytes, top row first
  void render(const double* qpos, unsigned char* rgb);

 private:
  void add_floor_grid();

  struct State;
  std::unique_ptr<State> s_;
  int width_ = 0, height_ = 0;
};

// An ffmpeg child process that encodes RGB frames (top row first) into `path`; the container
// follows the file's extension (.mp4: H.264, yuv420p). Throws std::runtime_error when ffmpeg is
// not on PATH, when a write fails, or when ffmpeg exits with an error (its message included).
class VideoWriter {
 public:
  VideoWriter(const std::string& path, int width, int height, double fps);
  ~VideoWriter();  // closes (errors ignored) when close() was not called
  VideoWriter(const VideoWriter&) = delete;
  VideoWriter& operator=(const VideoWriter&) = delete;

  void write(const unsigned char* rgb);
  // finishes the file; throws if ffmpeg failed
  void close();
  int frames() const { return frames_; }

 private:
  std::string path_, log_path_;
  int width_, height_, frames_ = 0;
  int fd_ = -1;   // ffmpeg's stdin
  int pid_ = -1;
};

// ffmpeg's path on PATH, or "" when it is not there
std::string find_ffmpeg();

}  // namespace stampede::render
