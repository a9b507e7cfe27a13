// sim/compile.h — MJCF -> mjModel (MuJoCo compiles) -> Model<Real> (our SoA arrays).
//
// A model that uses a feature our kernels do not simulate is refused with a message naming the
// feature and where, never simulated wrongly.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "sim/model.h"

struct mjModel_;
typedef struct mjModel_ mjModel;

namespace stampede::sim {

// parse and compile an MJCF file with MuJoCo; throws std::runtime_error naming the path and
// giving MuJoCo's message. The caller owns the result (mj_deleteModel).
mjModel* load_mjcf(const std::string& path);

// the features of `m` our kernels do not simulate, one string each, naming the feature and
// where (e.g. "tendons (2 in model)", "mesh geom 'foot'"); empty: fully supported
std::vector<std::string> unsupported_features(const mjModel* m);

// thrown by compile_model when unsupported_features() is not empty; what() lists them all
class UnsupportedModel : public std::runtime_error {
 public:
  explicit UnsupportedModel(std::vector<std::string> features);
  const std::vector<std::string>& features() const { return features_; }

 private:
  std::vector<std::string> features_;
};

// convert a compiled mjModel to our model in precision Real (float or double);
// throws UnsupportedModel
template <class Real>
Model<Real> compile_model(const mjModel* m);

extern template Model<float> compile_model<float>(const mjModel*);
extern template Model<double> compile_model<double>(const mjModel*);

}  // namespace stampede::sim
