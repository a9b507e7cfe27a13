// sim/tasks/rl_tasks.h — the locomotion tasks added to rl's task registry (rl itself never
// depends on sim/tasks), for `stampede train`/`play`/... and Python's stampede.train. Their physics
// runs on a sim backend: the device asked for when this build has it, else MuJoCo's reference.
#pragma once

#include <string>

namespace stampede::sim::tasks {

// the configs/tasks tasks plus h1-walk and humanoid-walk (once per process)
void register_rl_tasks();
// a task YAML given by path (configs/tasks/*.yaml's format), registered under that path; other
// names are left alone. Throws when a *.yaml path does not exist.
void register_rl_task_file(const std::string& task);

}  // namespace stampede::sim::tasks
