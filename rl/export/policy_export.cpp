// rl/export/policy_export.cpp — ExportedPolicy -> ONNX ModelProto (libonnx's protobuf classes),
// checked by onnx::checker and written atomically.
#include "rl/export/policy_export.h"

#include <fcntl.h>
#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <sstream>

#include "sim/robot/robot.h"
#include "sim/robot/sha256.h"

namespace stampede::rl {
namespace {

[[noreturn]] void fail(const std::string& field, const std::string& what) {
  throw ExportError("policy export: " + field + ": " + what);
}

// canonical contract text -> ordered (field, value) pairs
std::vector<std::pair<std::string, std::string>> contract_fields(const std::string& text) {
  std::vector<std::pair<std::string, std::string>> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const auto eq = line.find('=');
    out.emplace_back(line.substr(0, eq), eq == std::string::npos ? "" : line.substr(eq + 1));
  }
  return out;
}

std::string field_value(const std::vector<std::pair<std::string, std::string>>& fields,
                        const std::string& key) {
  for (const auto& [k, v] : fields) {
    if (k == key) return v;
  }
  fail("contract_canonical", "has no field '" + key + "'");
}

void check_finite(const std::vector<float>& v, const std::string& field) {
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (!std::isfinite(v[i])) fail(field + "[" + std::to_string(i) + "]", "is not finite");
  }
}

// readable copies of the contract fields, for people reading the model's metadata: one key per
// per-joint field (values in policy order, comma-separated) and one per scalar field
std::map<std::string, std::string> readable_contract(const std::string& canonical) {
  const auto fields = contract_fields(canonical);
  std::map<std::string, std::string> out;
  std::map<std::string, std::string> per_joint;   // "kp" -> "150,150,..."
  std::string obs_layout;
  for (const auto& [k, v] : fields) {
    if (k.rfind("joints[", 0) == 0) {
      const std::string sub = k.substr(k.find("].") + 2);
      auto& dst = per_joint[sub == "name" ? "joint_names" : sub == "default" ? "default_joint_pos" : sub];
      dst += (dst.empty() ? "" : ",") + v;
    } else if (k.rfind("observation[", 0) == 0) {
      const std::string sub = k.substr(k.find("].") + 2);
      if (sub == "term") obs_layout += (obs_layout.empty() ? "" : ";") + v;
      else obs_layout += " " + sub + "=" + v;
    } else if (k.rfind("joints.", 0) != 0 && k.rfind("observation.", 0) != 0) {
      out[k] = v;   // contract.version, action.*, control.*, frames.*
    }
  }
  for (auto& [k, v] : per_joint) out[k] = v;
  out["observation.layout"] = obs_layout;
  out["observation.size"] = field_value(fields, "observation.size");
  return out;
}

void add_meta(onnx::ModelProto& model, const std::string& key, const std::string& value) {
  auto* p = model.add_metadata_props();
  p->set_key(key);
  p->set_value(value);
}

// a float initializer of the given shape, stored as little-endian raw_data
void add_initializer(onnx::GraphProto& g, const std::string& name, const std::vector<int64_t>& dims,
                     const std::vector<float>& values) {
  auto* t = g.add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : dims) t->add_dims(d);
  std::string raw(values.size() * sizeof(float), '\0');
  for (std::size_t i = 0; i < values.size(); ++i) {
    uint32_t bits;
    std::memcpy(&bits, &values[i], 4);
    for (int b = 0; b < 4; ++b) raw[4 * i + b] = static_cast<char>((bits >> (8 * b)) & 0xff);
  }
  t->set_raw_data(raw);
}

onnx::NodeProto* add_node(onnx::GraphProto& g, const std::string& op, const std::vector<std::string>& in,
                          const std::string& out) {
  auto* n = g.add_node();
  n->set_op_type(op);
  n->set_name(out);
  for (const auto& i : in) n->add_input(i);
  n->add_output(out);
  return n;
}

void set_io(onnx::ValueInfoProto* v, const std::string& name, int64_t width) {
  v->set_name(name);
  auto* tt = v->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(onnx::TensorProto::FLOAT);
  auto* shape = tt->mutable_shape();
  shape->add_dim()->set_dim_param("batch");
  shape->add_dim()->set_dim_value(width);
}

// obs -> normalizer -> MLP -> actions
void build_graph(const ExportedPolicy& p, onnx::GraphProto& g) {
  g.set_name("stampede_policy");
  const int obs_dim = p.layer_sizes.front();
  const int act_dim = p.layer_sizes.back();
  set_io(g.add_input(), "obs", obs_dim);
  set_io(g.add_output(), "actions", act_dim);

  // normalizer: (obs - mean) * inv_std, clipped; inv_std computed in double and rounded to float
  // once, as the learner's ObsNormalizer::normalize does
  std::vector<float> inv_std(obs_dim);
  for (int i = 0; i < obs_dim; ++i) {
    const double var = p.obs_var[i], eps = p.obs_eps;
    inv_std[i] = static_cast<float>(1.0 / (p.obs_eps_on_std ? std::sqrt(var) + eps : std::sqrt(var + eps)));
  }
  add_initializer(g, "obs_mean", {obs_dim}, p.obs_mean);
  add_initializer(g, "obs_inv_std", {obs_dim}, inv_std);
  add_node(g, "Sub", {"obs", "obs_mean"}, "obs_centered");
  add_node(g, "Mul", {"obs_centered", "obs_inv_std"}, "obs_scaled");
  std::string x = "obs_scaled";
  if (p.obs_clip > 0) {
    add_initializer(g, "obs_clip_min", {}, {-p.obs_clip});
    add_initializer(g, "obs_clip_max", {}, {p.obs_clip});
    add_node(g, "Clip", {x, "obs_clip_min", "obs_clip_max"}, "obs_normalized");
    x = "obs_normalized";
  }

  // actor: Gemm(x, W^T, b) per layer, the activation after every hidden layer
  const std::size_t nlayer = p.weights.size();
  for (std::size_t l = 0; l < nlayer; ++l) {
    const std::string w = "actor." + std::to_string(l) + ".weight";
    const std::string b = "actor." + std::to_string(l) + ".bias";
    add_initializer(g, w, {p.layer_sizes[l + 1], p.layer_sizes[l]}, p.weights[l]);
    add_initializer(g, b, {p.layer_sizes[l + 1]}, p.biases[l]);
    const bool last = l + 1 == nlayer;
    const std::string y = last ? "actions" : "actor." + std::to_string(l) + ".linear";
    auto* gemm = add_node(g, "Gemm", {x, w, b}, y);
    auto* trans_b = gemm->add_attribute();
    trans_b->set_name("transB");
    trans_b->set_type(onnx::AttributeProto::INT);
    trans_b->set_i(1);
    if (last) break;
    const std::string h = "actor." + std::to_string(l) + ".out";
    if (p.activation == "elu") {
      auto* alpha = add_node(g, "Elu", {y}, h)->add_attribute();
      alpha->set_name("alpha");
      alpha->set_type(onnx::AttributeProto::FLOAT);
      alpha->set_f(1.0f);
    } else if (p.activation == "tanh") {
      add_node(g, "Tanh", {y}, h);
    } else {
      add_node(g, "Relu", {y}, h);
    }
    x = h;
  }
}

}  // namespace

void validate_exported_policy(const ExportedPolicy& p) {
  const auto& ls = p.layer_sizes;
  if (ls.size() < 2) fail("layer_sizes", "expected {obs_dim, hidden..., act_dim}, got " + std::to_string(ls.size()) + " entries");
  for (std::size_t i = 0; i < ls.size(); ++i) {
    if (ls[i] <= 0) fail("layer_sizes[" + std::to_string(i) + "]", "expected > 0, got " + std::to_string(ls[i]));
  }
  const std::size_t nlayer = ls.size() - 1;
  if (p.weights.size() != nlayer) fail("weights", "expected " + std::to_string(nlayer) + " layers, got " + std::to_string(p.weights.size()));
  if (p.biases.size() != nlayer) fail("biases", "expected " + std::to_string(nlayer) + " layers, got " + std::to_string(p.biases.size()));
  for (std::size_t l = 0; l < nlayer; ++l) {
    const std::string wl = "weights[" + std::to_string(l) + "]", bl = "biases[" + std::to_string(l) + "]";
    const std::size_t want = static_cast<std::size_t>(ls[l + 1]) * ls[l];
    if (p.weights[l].size() != want) fail(wl, "expected " + std::to_string(want) + " values (out " + std::to_string(ls[l + 1]) + " x in " + std::to_string(ls[l]) + "), got " + std::to_string(p.weights[l].size()));
    if (p.biases[l].size() != static_cast<std::size_t>(ls[l + 1])) fail(bl, "expected " + std::to_string(ls[l + 1]) + " values, got " + std::to_string(p.biases[l].size()));
    check_finite(p.weights[l], wl);
    check_finite(p.biases[l], bl);
  }
  const std::size_t obs_dim = ls.front();
  if (p.obs_mean.size() != obs_dim) fail("obs_mean", "expected " + std::to_string(obs_dim) + " values, got " + std::to_string(p.obs_mean.size()));
  if (p.obs_var.size() != obs_dim) fail("obs_var", "expected " + std::to_string(obs_dim) + " values, got " + std::to_string(p.obs_var.size()));
  check_finite(p.obs_mean, "obs_mean");
  check_finite(p.obs_var, "obs_var");
  for (std::size_t i = 0; i < obs_dim; ++i) {
    if (p.obs_var[i] < 0) fail("obs_var[" + std::to_string(i) + "]", "expected >= 0");
    const double std_dev = p.obs_eps_on_std ? std::sqrt(static_cast<double>(p.obs_var[i])) + p.obs_eps
                                            : std::sqrt(static_cast<double>(p.obs_var[i]) + p.obs_eps);
    if (!(std_dev > 0)) fail("obs_var[" + std::to_string(i) + "]", "is 0 with obs_eps 0: the normalizer would divide by zero");
  }
  if (!(p.obs_eps >= 0) || !std::isfinite(p.obs_eps)) fail("obs_eps", "expected a finite value >= 0");
  if (!std::isfinite(p.obs_clip)) fail("obs_clip", "expected a finite value");
  if (!(p.gait_period >= 0) || !std::isfinite(p.gait_period)) fail("gait_period", "expected a finite value >= 0 (0: no gait clock)");
  if (p.gait_period == 0 && p.contract_canonical.find("].term=gait_phase\n") != std::string::npos) {
    fail("gait_period", "is 0 but the observation layout has a gait_phase term; the runtime needs the task's gait period");
  }
  if (p.activation != "elu" && p.activation != "tanh" && p.activation != "relu") {
    fail("activation", "expected elu, tanh or relu, got '" + p.activation + "'");
  }
  // the contract: hash of the canonical text, and sizes that match the network
  if (p.contract_canonical.empty()) fail("contract_canonical", "is empty; a policy without its robot contract cannot be deployed");
  const std::string hash = robot::sha256_hex(p.contract_canonical);
  if (hash != p.contract_hash) fail("contract_hash", "'" + p.contract_hash + "' is not the SHA-256 of contract_canonical (" + hash + ")");
  const auto fields = contract_fields(p.contract_canonical);
  const std::string obs_size = field_value(fields, "observation.size");
  const std::string njoint = field_value(fields, "joints.count");
  if (obs_size != std::to_string(ls.front())) fail("layer_sizes[0]", "is " + std::to_string(ls.front()) + " but the contract's observation.size is " + obs_size);
  if (njoint != std::to_string(ls.back())) fail("layer_sizes[" + std::to_string(nlayer) + "]", "is " + std::to_string(ls.back()) + " but the contract has " + njoint + " joints");
}

std::string export_policy_onnx_bytes(const ExportedPolicy& p) {
  validate_exported_policy(p);
  onnx::ModelProto model;
  model.set_ir_version(8);  // IR version of opset 17 (ONNX 1.12)
  model.set_producer_name("stampede");
  model.set_producer_version("0.1.0");
  model.set_doc_string("stampede locomotion policy: observation normalizer + actor MLP, deterministic head");
  auto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(kExportOpset);
  build_graph(p, *model.mutable_graph());

  add_meta(model, kMetaFormat, kPolicyFormat);
  add_meta(model, kMetaContract, p.contract_canonical);
  add_meta(model, kMetaContractHash, p.contract_hash);
  for (const auto& [k, v] : readable_contract(p.contract_canonical)) add_meta(model, kMetaContractPrefix + k, v);
  add_meta(model, "policy.activation", p.activation);
  std::string sizes;
  for (int s : p.layer_sizes) sizes += (sizes.empty() ? "" : ",") + std::to_string(s);
  add_meta(model, "policy.layer_sizes", sizes);
  for (const auto& [k, v] : p.provenance) add_meta(model, kMetaProvenancePrefix + k, v);
  if (p.gait_period > 0) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.17g", p.gait_period);
    add_meta(model, kMetaGaitPeriod, buf);
  }

  try {
    onnx::checker::check_model(model);
  } catch (const std::exception& e) {
    throw ExportError(std::string("policy export: onnx checker rejected the graph: ") + e.what());
  }
  std::string bytes;
  if (!model.SerializeToString(&bytes)) throw ExportError("policy export: protobuf serialization failed");
  return bytes;
}

void export_policy_onnx(const ExportedPolicy& p, const std::string& path) {
  const std::string bytes = export_policy_onnx_bytes(p);
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) throw ExportError(tmp + ": cannot create: " + std::strerror(errno));
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string err = std::strerror(errno);
      ::close(fd);
      ::unlink(tmp.c_str());
      throw ExportError(tmp + ": write failed: " + err);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const std::string err = std::strerror(errno);
    ::unlink(tmp.c_str());
    throw ExportError(tmp + ": fsync/close failed: " + err);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string err = std::strerror(errno);
    ::unlink(tmp.c_str());
    throw ExportError(path + ": rename from " + tmp + " failed: " + err);
  }
}

ExportedPolicy random_policy(const robot::RobotSpec& spec, const std::vector<int>& hidden,
                             std::uint64_t seed, const std::string& activation) {
  ExportedPolicy p;
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
  p.layer_sizes.push_back(spec.obs_size());
  p.layer_sizes.insert(p.layer_sizes.end(), hidden.begin(), hidden.end());
  p.layer_sizes.push_back(spec.num_joints());
  for (std::size_t l = 0; l + 1 < p.layer_sizes.size(); ++l) {
    const int in = p.layer_sizes[l], out = p.layer_sizes[l + 1];
    const float limit = std::sqrt(6.0f / static_cast<float>(in + out));  // Xavier-uniform
    std::vector<float> w(static_cast<std::size_t>(in) * out), b(out);
    for (auto& v : w) v = limit * unit(rng);
    for (auto& v : b) v = 0.1f * unit(rng);
    p.weights.push_back(std::move(w));
    p.biases.push_back(std::move(b));
  }
  const int obs_dim = spec.obs_size();
  for (int i = 0; i < obs_dim; ++i) {
    p.obs_mean.push_back(0.2f * unit(rng));
    p.obs_var.push_back(0.5f + 0.5f * (unit(rng) + 1.0f));  // in [0.5, 1.5]
  }
  p.obs_eps = 1e-8f;
  p.obs_clip = 5.0f;
  p.activation = activation;
  p.contract_canonical = robot::canonical_contract(spec);
  p.contract_hash = robot::contract_hash(spec);
  p.provenance = {{"source", "random_policy"}, {"seed", std::to_string(seed)}};
  p.gait_period = 0.8;
  return p;
}

}  // namespace stampede::rl
