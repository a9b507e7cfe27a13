# Third-party dependencies, all from Debian packages or PyPI (scripts/install.sh installs them).

find_package(Threads REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(Eigen3 3.4 REQUIRED NO_MODULE)

# OpenBLAS (Debian's libopenblas-dev) for the CPU learner's float products (rl/gemm.h). Its
# pthread build first: the learner calls it from its own threads at once, which Debian's serial
# build does not survive (its buffers are not locked: results changed from run to run); rl/gemm.cpp
# sets it to one thread per call and falls back to Eigen if the library loaded is a serial one.
# Without OpenBLAS the products stay on Eigen, with a message.
find_library(STAMPEDE_OPENBLAS_LIBRARY NAMES libopenblas.so.0 openblas
  PATHS /usr/lib/${CMAKE_LIBRARY_ARCHITECTURE}/openblas-pthread NO_DEFAULT_PATH)
if(NOT STAMPEDE_OPENBLAS_LIBRARY)
  find_library(STAMPEDE_OPENBLAS_LIBRARY NAMES openblas)
endif()
find_path(STAMPEDE_OPENBLAS_INCLUDE_DIR cblas.h
  PATHS /usr/include/${CMAKE_LIBRARY_ARCHITECTURE}/openblas-pthread PATH_SUFFIXES openblas)
if(STAMPEDE_OPENBLAS_LIBRARY AND STAMPEDE_OPENBLAS_INCLUDE_DIR)
  message(STATUS "stampede: OpenBLAS ${STAMPEDE_OPENBLAS_LIBRARY} for the CPU learner's products")
  set(STAMPEDE_OPENBLAS_FOUND TRUE)
else()
  message(STATUS "stampede: OpenBLAS not found (scripts/install.sh installs libopenblas-dev): the CPU learner's products use Eigen")
  set(STAMPEDE_OPENBLAS_FOUND FALSE)
endif()

# MuJoCo 4.0.0 comes from the mujoco-core wheel on PyPI: ask Python where the package is.
find_package(Python3 REQUIRED COMPONENTS Interpreter)
execute_process(
  COMMAND ${Python3_EXECUTABLE} -c "import mujoco, os; print(os.path.dirname(mujoco.__file__)); print(mujoco.__version__)"
  OUTPUT_VARIABLE _mj_out RESULT_VARIABLE _mj_rc OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT _mj_rc EQUAL 0)
  message(FATAL_ERROR "stampede: Python package 'mujoco' not found for ${Python3_EXECUTABLE}. "
                      "Run scripts/install.sh (pip install mujoco-core==4.0.0).")
endif()
string(REPLACE "\n" ";" _mj_out "${_mj_out}")
list(GET _mj_out 0 MUJOCO_PACKAGE_DIR)
list(GET _mj_out 1 MUJOCO_VERSION)
if(NOT MUJOCO_VERSION VERSION_EQUAL 4.0.0)
  message(FATAL_ERROR "stampede: needs MuJoCo 4.0.0, found ${MUJOCO_VERSION} in ${MUJOCO_PACKAGE_DIR}")
endif()
set(MUJOCO_LIBRARY ${MUJOCO_PACKAGE_DIR}/libmujoco.so.4.0.0)
if(NOT EXISTS ${MUJOCO_LIBRARY})
  message(FATAL_ERROR "stampede: ${MUJOCO_LIBRARY} is missing")
endif()
add_library(mujoco::mujoco SHARED IMPORTED GLOBAL)
set_target_properties(mujoco::mujoco PROPERTIES
  IMPORTED_LOCATION ${MUJOCO_LIBRARY}
  IMPORTED_NO_SONAME FALSE
  INTERFACE_INCLUDE_DIRECTORIES ${MUJOCO_PACKAGE_DIR}/include)
set(CMAKE_BUILD_RPATH ${CMAKE_BUILD_RPATH} ${MUJOCO_PACKAGE_DIR})
set(CMAKE_INSTALL_RPATH ${CMAKE_INSTALL_RPATH} ${MUJOCO_PACKAGE_DIR})
message(STATUS "stampede: MuJoCo ${MUJOCO_VERSION} from ${MUJOCO_PACKAGE_DIR}")

set(MUJOCO_SAMPLES_DIR /usr/share/mujoco/model CACHE PATH "MuJoCo sample models (Debian libmujoco-samples)")
