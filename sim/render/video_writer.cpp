// sim/render/video_writer.cpp — see offscreen.h: raw RGB frames into an ffmpeg child's stdin;
// ffmpeg's messages go to a file beside the video and are quoted in the error when it fails.
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim/render/offscreen.h"

extern char** environ;

namespace stampede::render {

std::string find_ffmpeg() {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    const std::string candidate = (dir.empty() ? "." : dir) + "/ffmpeg";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

namespace {

std::string extension(const std::string& path) {
  const auto dot = path.find_last_of('.');
  const auto slash = path.find_last_of('/');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
  std::string e = path.substr(dot + 1);
  for (auto& ch : e) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return e;
}

std::string read_tail(const std::string& path, std::size_t max_chars) {
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.size() > max_chars) text = "..." + text.substr(text.size() - max_chars);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

}  // namespace

VideoWriter::VideoWriter(const std::string& path, int width, int height, double fps)
    : path_(path), log_path_(path + ".ffmpeg.log"), width_(width), height_(height) {
  const std::string ext = extension(path);
  if (ext.empty()) throw std::invalid_argument("video file '" + path + "' has no extension (e.g. .mp4)");
  const bool h264 = ext == "mp4" || ext == "mkv" || ext == "mov";
  if (h264 && (width % 2 || height % 2))
    throw std::invalid_argument("video size " + std::to_string(width) + "x" + std::to_string(height) +
                                ": H.264 needs even width and height");
  if (!(fps > 0)) throw std::invalid_argument("video frame rate must be > 0");
  const auto slash = path.find_last_of('/');
  struct stat st;
  if (slash != std::string::npos && slash > 0 &&
      (::stat(path.substr(0, slash).c_str(), &st) != 0 || !S_ISDIR(st.st_mode)))
    throw std::invalid_argument("video file '" + path + "': folder '" + path.substr(0, slash) + "' does not exist");
  const std::string ffmpeg = find_ffmpeg();
  if (ffmpeg.empty())
    throw std::runtime_error("writing '" + path + "' needs ffmpeg on PATH (Debian: apt-get install ffmpeg; "
                             "scripts/install.sh installs it)");
  char rate[32], size[32];
  std::snprintf(rate, sizeof(rate), "%.6g", fps);
  std::snprintf(size, sizeof(size), "%dx%d", width, height);
  std::vector<std::string> args = {ffmpeg, "-nostdin", "-y", "-loglevel", "error", "-f", "rawvideo",
                                   "-pix_fmt", "rgb24", "-video_size", size, "-framerate", rate, "-i", "pipe:0",
                                   "-an"};
  if (h264)
    for (const char* a : {"-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p"})
      args.push_back(a);
  if (ext == "mp4" || ext == "mov")
    for (const char* a : {"-movflags", "+faststart"}) args.push_back(a);
  args.push_back(path);

  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[0], 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, ffmpeg.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[0]);
  if (rc != 0) {
    ::close(fds[1]);
    throw std::runtime_error("starting " + ffmpeg + ": " + std::strerror(rc));
  }
  pid_ = pid;
  fd_ = fds[1];
}

VideoWriter::~VideoWriter() {
  try {
    close();
  } catch (...) {
  }
}

void VideoWriter::write(const unsigned char* rgb) {
  if (fd_ < 0) throw std::logic_error("VideoWriter::write after close");
  const std::size_t bytes = static_cast<std::size_t>(width_) * height_ * 3;
  // a dead ffmpeg must give an error here, not SIGPIPE
  struct sigaction ignore = {}, previous = {};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ignore, &previous);
  std::size_t done = 0;
  int err = 0;
  while (done < bytes) {
    const ssize_t w = ::write(fd_, rgb + done, bytes - done);
    if (w < 0) {
      if (errno == EINTR) continue;
      err = errno;
      break;
    }
    done += static_cast<std::size_t>(w);
  }
  ::sigaction(SIGPIPE, &previous, nullptr);
  if (err) {
    const int fd = fd_;
    fd_ = -1;
    ::close(fd);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    throw std::runtime_error("ffmpeg stopped taking frames for '" + path_ + "' (" + std::strerror(err) +
                             "): " + read_tail(log_path_, 800));
  }
  ++frames_;
}

void VideoWriter::close() {
  if (pid_ < 0) return;
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw std::runtime_error("ffmpeg failed writing '" + path_ + "': " + read_tail(log_path_, 800));
  ::unlink(log_path_.c_str());
}

}  // namespace stampede::render
