# Cross-compiling for 64-bit ARM Linux (NVIDIA Jetson class) with Debian's cross compiler
# (apt-get install g++-aarch64-linux-gnu). Used for the runtime core, which needs only the C++
# standard library and yaml-cpp (see runtime/cross/CMakeLists.txt, scripts/cross_test_aarch64.sh):
#   cmake -S runtime/cross -B build-aarch64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-aarch64.cmake \
#         -DSTAMPEDE_AARCH64_SYSROOT=<dir with arm64 yaml-cpp unpacked>
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

set(_triple aarch64-linux-gnu)
find_program(CMAKE_C_COMPILER ${_triple}-gcc REQUIRED)
find_program(CMAKE_CXX_COMPILER ${_triple}-g++ REQUIRED)

# target libraries come from the cross toolchain's own tree and, for third-party libraries
# (yaml-cpp), from a sysroot directory of unpacked arm64 Debian packages; programs run on the host
set(STAMPEDE_AARCH64_SYSROOT "" CACHE PATH "arm64 packages unpacked (dpkg -x) into this directory")
set(CMAKE_FIND_ROOT_PATH /usr/${_triple})
if(STAMPEDE_AARCH64_SYSROOT)
  list(APPEND CMAKE_FIND_ROOT_PATH ${STAMPEDE_AARCH64_SYSROOT})
endif()
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# headers: the cross tree first, then the host's architecture-independent ones (Catch2's single
# header is not in any arm64 package, and does not need to be)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)

# run target programs (try_run, tests) through qemu-user with the cross toolchain's loader
find_program(STAMPEDE_QEMU_AARCH64 qemu-aarch64)
if(STAMPEDE_QEMU_AARCH64)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${STAMPEDE_QEMU_AARCH64} -L /usr/${_triple})
endif()
