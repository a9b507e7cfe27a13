# stampede_add_test(NAME SOURCES a.cpp b.cpp LIBS lib... [LABELS l...])
# One Catch2 (v2) executable per test file; ctest runs it. Tests labelled `gpu` need a device
# and skip with a message (Catch2 returns 0 after printing why) when none exists.
if(STAMPEDE_BUILD_TESTS)
  enable_testing()
  find_package(Catch2 2 REQUIRED)
  add_library(stampede_catch_main STATIC ${CMAKE_CURRENT_LIST_DIR}/catch_main.cpp)
  target_link_libraries(stampede_catch_main PUBLIC Catch2::Catch2)
endif()

function(stampede_add_test name)
  if(NOT STAMPEDE_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(T "" "" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE stampede_catch_main ${T_LIBS})
  target_compile_definitions(${name} PRIVATE
    STAMPEDE_ASSETS_DIR="${STAMPEDE_ASSETS_DIR}"
    STAMPEDE_SOURCE_DIR="${STAMPEDE_SOURCE_DIR}"
    MUJOCO_SAMPLES_DIR="${MUJOCO_SAMPLES_DIR}")
  add_test(NAME ${name} COMMAND ${name})
  if(T_LABELS)
    set_tests_properties(${name} PROPERTIES LABELS "${T_LABELS}")
  endif()
endfunction()
