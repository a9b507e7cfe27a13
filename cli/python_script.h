// cli/python_script.h — how a command runs a Python script (the plots of `stampede transfer` and
// `stampede bench walk`): python3 with the script's output captured, a failure turned into one
// line for the user. Header-only, so a test that compiles one cmd_*.cpp needs nothing else.
#pragma once

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

namespace stampede::cli {

// python3 SCRIPT ARGS... (stdout and stderr captured); "" when it exits 0 and `output` is then a
// regular file, else why not: "python3 NAME failed: " + the last line it printed (or its exit status)
inline std::string run_python_script(const std::filesystem::path& script, const std::vector<std::string>& args,
                                     const std::filesystem::path& output) {
  std::string cmd = "python3 '" + script.string() + "'";
  for (const auto& a : args) cmd += " '" + a + "'";
  cmd += " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return "could not start python3";
  std::string text;
  char buf[512];
  while (std::fgets(buf, sizeof(buf), p)) text += buf;
  const int status = pclose(p);
  if (status == 0 && std::filesystem::is_regular_file(output)) return "";
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  const auto nl = text.rfind('\n');
  return "python3 " + script.filename().string() + " failed: " +
         (text.empty() ? "exit status " + std::to_string(status) : text.substr(nl == std::string::npos ? 0 : nl + 1));
}

}  // namespace stampede::cli
