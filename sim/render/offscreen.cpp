// sim/render/offscreen.cpp — see offscreen.h. The EGL display is headless: Mesa's surfaceless
// platform first (software rendering when there is no GPU), then the device platform (NVIDIA's
// driver), then the default display. MuJoCo draws into its own offscreen framebuffer, so the
// context needs no surface.
#include "sim/render/offscreen.h"

#include <EGL/egl.h>
#include <EGL/eglext.h>
#include <mujoco/mujoco.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

namespace stampede::render {

namespace {

std::string egl_error(const char* what) {
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%s failed (EGL error 0x%04x)", what, static_cast<unsigned>(eglGetError()));
  return buf;
}

// a headless display, initialized; EGL_NO_DISPLAY when none answers
EGLDisplay headless_display() {
  auto get_platform_display =
      reinterpret_cast<PFNEGLGETPLATFORMDISPLAYEXTPROC>(eglGetProcAddress("eglGetPlatformDisplayEXT"));
  EGLint major = 0, minor = 0;
  if (get_platform_display) {
    EGLDisplay d = get_platform_display(EGL_PLATFORM_SURFACELESS_MESA, EGL_DEFAULT_DISPLAY, nullptr);
    if (d != EGL_NO_DISPLAY && eglInitialize(d, &major, &minor)) return d;
    auto query_devices = reinterpret_cast<PFNEGLQUERYDEVICESEXTPROC>(eglGetProcAddress("eglQueryDevicesEXT"));
    if (query_devices) {
      EGLDeviceEXT devices[8];
      EGLint n = 0;
      if (query_devices(8, devices, &n))
        for (EGLint i = 0; i < n; ++i) {
          d = get_platform_display(EGL_PLATFORM_DEVICE_EXT, devices[i], nullptr);
          if (d != EGL_NO_DISPLAY && eglInitialize(d, &major, &minor)) return d;
        }
    }
  }
  EGLDisplay d = eglGetDisplay(EGL_DEFAULT_DISPLAY);
  if (d != EGL_NO_DISPLAY && eglInitialize(d, &major, &minor)) return d;
  return EGL_NO_DISPLAY;
}

}  // namespace

struct OffscreenRenderer::State {
  EGLDisplay display = EGL_NO_DISPLAY;
  EGLContext context = EGL_NO_CONTEXT;
  mjModel* model = nullptr;
  mjData* data = nullptr;
  mjvScene scene;
  mjvCamera camera;
  mjvOption option;
  mjrContext gl;
  bool scene_made = false, gl_made = false;
  std::vector<unsigned char> flipped;

  ~State() {
    if (context != EGL_NO_CONTEXT) eglMakeCurrent(display, EGL_NO_SURFACE, EGL_NO_SURFACE, context);
    if (gl_made) mjr_freeContext(&gl);
    if (scene_made) mjv_freeScene(&scene);
    if (data) mj_deleteData(data);
    if (model) mj_deleteModel(model);
    if (context != EGL_NO_CONTEXT) {
      eglMakeCurrent(display, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
      eglDestroyContext(display, context);
    }
  }
};

OffscreenRenderer::OffscreenRenderer(const mjModel* model, int width, int height)
    : s_(std::make_unique<State>()), width_(width), height_(height) {
  if (!model) throw std::invalid_argument("offscreen renderer: no model");
  if (width < 16 || height < 16 || width > 8192 || height > 8192)
    throw std::invalid_argument("offscreen renderer: frame size " + std::to_string(width) + "x" +
                                std::to_string(height) + " is outside 16..8192");
  const std::string why = "offscreen rendering needs a headless OpenGL context through EGL "
                          "(Debian: libegl1 and libgl1-mesa-dri; scripts/install.sh installs them)";
  s_->display = headless_display();
  if (s_->display == EGL_NO_DISPLAY) throw std::runtime_error("no EGL display: " + why);
  const EGLint with_pbuffer[] = {EGL_SURFACE_TYPE, EGL_PBUFFER_BIT, EGL_RED_SIZE, 8, EGL_GREEN_SIZE, 8,
                                 EGL_BLUE_SIZE, 8, EGL_ALPHA_SIZE, 8, EGL_DEPTH_SIZE, 24, EGL_STENCIL_SIZE, 8,
                                 EGL_RENDERABLE_TYPE, EGL_OPENGL_BIT, EGL_NONE};
  const EGLint any_surface[] = {EGL_RENDERABLE_TYPE, EGL_OPENGL_BIT, EGL_NONE};
  EGLConfig config = nullptr;
  EGLint n = 0;
  if ((!eglChooseConfig(s_->display, with_pbuffer, &config, 1, &n) || n < 1) &&
      (!eglChooseConfig(s_->display, any_surface, &config, 1, &n) || n < 1))
    throw std::runtime_error(egl_error("eglChooseConfig (desktop OpenGL)") + ": " + why);
  if (!eglBindAPI(EGL_OPENGL_API)) throw std::runtime_error(egl_error("eglBindAPI(OpenGL)") + ": " + why);
  s_->context = eglCreateContext(s_->display, config, EGL_NO_CONTEXT, nullptr);
  if (s_->context == EGL_NO_CONTEXT) throw std::runtime_error(egl_error("eglCreateContext") + ": " + why);
  if (!eglMakeCurrent(s_->display, EGL_NO_SURFACE, EGL_NO_SURFACE, s_->context))
    throw std::runtime_error(egl_error("eglMakeCurrent (surfaceless)") + ": " + why);
  // MuJoCo ends the process on a context it cannot use; ask the context first
  using GetString = const unsigned char* (*)(unsigned);
  auto get_string = reinterpret_cast<GetString>(eglGetProcAddress("glGetString"));
  const unsigned char* version = get_string ? get_string(0x1F02 /* GL_VERSION */) : nullptr;
  if (!version || std::atof(reinterpret_cast<const char*>(version)) < 1.5)
    throw std::runtime_error("the EGL context offers no OpenGL 1.5 or later: " + why);

  s_->model = mj_copyModel(nullptr, model);
  s_->model->vis.global.offwidth = std::max(s_->model->vis.global.offwidth, width);
  s_->model->vis.global.offheight = std::max(s_->model->vis.global.offheight, height);
  s_->data = mj_makeData(s_->model);
  mjv_defaultScene(&s_->scene);
  mjv_defaultCamera(&s_->camera);
  mjv_defaultOption(&s_->option);
  mjr_defaultContext(&s_->gl);
  mjv_makeScene(s_->model, &s_->scene, 4000);
  s_->scene_made = true;
  mjr_makeContext(s_->model, &s_->gl, mjFONTSCALE_100);
  s_->gl_made = true;
  mjr_setBuffer(mjFB_OFFSCREEN, &s_->gl);
  if (s_->gl.currentBuffer != mjFB_OFFSCREEN || s_->gl.offWidth < width || s_->gl.offHeight < height)
    throw std::runtime_error("MuJoCo's offscreen framebuffer could not be made " + std::to_string(width) + "x" +
                             std::to_string(height));
  s_->flipped.resize(static_cast<std::size_t>(width) * height * 3);
  track(s_->model->nbody > 1 ? 1 : 0, 0);
}

OffscreenRenderer::~OffscreenRenderer() = default;

void OffscreenRenderer::track(int body, double distance, double azimuth, double elevation) {
  mjvCamera& c = s_->camera;
  if (body > 0 && body < s_->model->nbody) {
    c.type = mjCAMERA_TRACKING;
    c.trackbodyid = body;
  } else {
    c.type = mjCAMERA_FREE;
    for (int k = 0; k < 3; ++k) c.lookat[k] = s_->model->stat.center[k];
  }
  c.distance = distance > 0 ? distance : std::clamp(1.6 * s_->model->stat.extent, 0.5, 8.0);
  c.azimuth = azimuth;
  c.elevation = elevation;
}

// A plain floor under a tracking camera hides all motion: lines every metre, around the point the
// camera looks at, on each horizontal plane geom of the world body.
void OffscreenRenderer::add_floor_grid() {
  State& s = *s_;
  constexpr int kHalf = 12;  // lines each side of the centre
  constexpr float kRgba[4] = {0.25f, 0.3f, 0.35f, 1.0f};
  for (int g = 0; g < s.model->ngeom; ++g) {
    if (s.model->geom_type[g] != mjGEOM_PLANE || s.model->geom_bodyid[g] != 0) continue;
    const double* z = s.data->geom_xmat + 9 * g + 6;  // the plane's normal: the frame's z axis
    if (z[2] < 0.999) continue;
    const double height = s.data->geom_xpos[3 * g + 2] + 1e-3;
    const double cx = std::round(s.camera.lookat[0]), cy = std::round(s.camera.lookat[1]);
    for (int axis = 0; axis < 2; ++axis)
      for (int i = -kHalf; i <= kHalf; ++i) {
        if (s.scene.ngeom >= s.scene.maxgeom) return;
        const double size[3] = {axis == 0 ? kHalf + 0.5 : 0.01, axis == 0 ? 0.01 : kHalf + 0.5, 1e-4};
        const double pos[3] = {axis == 0 ? cx : cx + i, axis == 0 ? cy + i : cy, height};
        const double mat[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
        mjvGeom* geom = s.scene.geoms + s.scene.ngeom++;
        mjv_initGeom(geom, mjGEOM_BOX, size, pos, mat, kRgba);
        geom->category = mjCAT_DECOR;
      }
  }
}

void OffscreenRenderer::render(const double* qpos, unsigned char* rgb) {
  State& s = *s_;
  eglMakeCurrent(s.display, EGL_NO_SURFACE, EGL_NO_SURFACE, s.context);
  std::memcpy(s.data->qpos, qpos, sizeof(double) * s.model->nq);
  mj_kinematics(s.model, s.data);
  mj_comPos(s.model, s.data);
  mj_camlight(s.model, s.data);
  mjv_updateScene(s.model, s.data, &s.option, nullptr, &s.camera, mjCAT_ALL, &s.scene);
  add_floor_grid();
  const mjrRect viewport = {0, 0, width_, height_};
  mjr_render(viewport, &s.scene, &s.gl);
  mjr_readPixels(s.flipped.data(), nullptr, viewport, &s.gl);
  // OpenGL's rows run bottom-up
  const std::size_t row = static_cast<std::size_t>(width_) * 3;
  for (int y = 0; y < height_; ++y)
    std::memcpy(rgb + row * y, s.flipped.data() + row * (height_ - 1 - y), row);
}

}  // namespace stampede::render
