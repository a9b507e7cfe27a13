// kernels/views.h — the model and data views kernel bodies take (see sim/model.h, sim/data.h).
#pragma once

#include "sim/data.h"
#include "sim/model.h"

namespace stampede::kern {
using sim::DataView;
using sim::ModelView;
}  // namespace stampede::kern
