#pragma once
// The tape: an append-only list of nodes in creation order, which is already a topological
// order. backward() is one reverse loop over it; each node's backward *accumulates* into the
// gradients of its inputs, so a tensor used twice (the shared embeddings) receives both.
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "autograd/var.hpp"

namespace electra {

struct Node {
  std::string op;  // "linear", "layer_norm", ... (for errors, anomaly mode and DOT)
  std::vector<Var> inputs;
  Var output;
  // Reads output.grad() and accumulates into the grad_buffer() of inputs that require a grad.
  std::function<void(const Var& output)> backward;
};

class Tape {
 public:
  // Appends a node if any input requires a gradient (and recording is on) and marks the output
  // as requiring one; otherwise the backward closure is dropped. In anomaly mode the output is
  // checked for NaN/Inf right away. Returns the output for chaining.
  Var record(std::string op, std::vector<Var> inputs, Tensor output,
             std::function<void(const Var& output)> backward);

  // Seeds d(loss)/d(loss) = 1 (loss must be a single element) and runs every node's backward in
  // reverse order. In anomaly mode each gradient is checked after the node that produced it.
  // Backward consumes the graph (PyTorch's retain_graph=False): each node's saved tensors, its
  // output's gradient and its handles are freed as soon as it has run, and the tape is empty
  // afterwards; parameters (leaves) keep their accumulated gradients.
  void backward(const Var& loss);
  // The same reverse loop seeded with an arbitrary output gradient (gradcheck projects on a
  // random vector this way).
  void backward(const Var& output, const Tensor& output_gradient);
  // Forgets all nodes (and with them the saved activations); parameters keep their grads.
  void clear();

  // Called during backward for each leaf that requires a gradient (a parameter), as soon as
  // its gradient is final for this backward: the reverse loop has run every node that reads it
  // (in creation order its first reader is the last to run). Leaves are reported in the order
  // they become final, ties in the order their reader lists them; a leaf whose readers received
  // no gradient is reported too, with has_grad() as it stands. Data-parallel training starts
  // summing gradients there (models/training/gradient_buckets.hpp). No hook (the default): backward
  // does no extra work.
  using GradientReadyHook = std::function<void(const Var& leaf)>;
  void set_gradient_ready_hook(GradientReadyHook hook) { gradient_ready_hook_ = std::move(hook); }

  // While false, ops compute values but record nothing (evaluation, generation).
  void set_recording(bool recording) { recording_ = recording; }
  bool recording() const { return recording_; }
  // Anomaly mode: the first NaN/Inf in forward or backward throws electra::Error naming the op,
  // its node index and its inputs' statistics.
  void set_anomaly_detection(bool enabled) { anomaly_detection_ = enabled; }
  bool anomaly_detection() const { return anomaly_detection_; }

  const std::vector<Node>& nodes() const { return nodes_; }
  std::size_t size() const { return nodes_.size(); }
  // The graph as Graphviz DOT: one box per op, one ellipse per leaf, edges labelled with shapes.
  std::string to_dot() const;

 private:
  static void release(Node& node);
  void check_backward_finite(const Node& node, int index) const;
  // The leaves that require a gradient, each with the index of its first reader, by that index
  // from last to first (the order the reverse loop finishes them).
  std::vector<std::pair<int, Var>> leaves_by_last_use() const;

  std::vector<Node> nodes_;
  bool recording_ = true;
  bool anomaly_detection_ = false;
  GradientReadyHook gradient_ready_hook_;
};

// Turns recording off for a scope (like torch.no_grad()).
class NoGradScope {
 public:
  explicit NoGradScope(Tape& tape) : tape_(tape), previous_(tape.recording()) {
    tape.set_recording(false);
  }
  ~NoGradScope() { tape_.set_recording(previous_); }
  NoGradScope(const NoGradScope&) = delete;
  NoGradScope& operator=(const NoGradScope&) = delete;

 private:
  Tape& tape_;
  bool previous_;
};

}  // namespace electra
