// sim/tasks/locomotion_device_env_host.cpp — DeviceLocomotionEnv over HostSpace: the CUDA env's
// code on the CPU backend, for the tests that check it against LocomotionEnv without a GPU.
#include "sim/tasks/locomotion_device_env.inl"

namespace stampede::sim::tasks {

template class DeviceLocomotionEnv<float, HostSpace<float>>;
template class DeviceLocomotionEnv<double, HostSpace<double>>;

}  // namespace stampede::sim::tasks
