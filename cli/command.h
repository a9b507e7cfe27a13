// cli/command.h — subcommands of the one `stampede` binary register themselves here.
// Each subcommand lives in its own cli/cmd_<name>.cpp with a static Registrar; main.cpp
// dispatches. A subcommand returns the process exit code.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace stampede::cli {

using CommandFn = std::function<int(const std::vector<std::string>& args)>;

struct Command {
  std::string name;     // e.g. "info"
  std::string summary;  // one line for `stampede --help`
  CommandFn run;        // receives the arguments after the subcommand name
};

std::vector<Command>& registry();

struct Registrar {
  Registrar(std::string name, std::string summary, CommandFn fn) {
    registry().push_back({std::move(name), std::move(summary), std::move(fn)});
  }
};

}  // namespace stampede::cli
