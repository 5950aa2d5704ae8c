#include "autograd/tape.hpp"

#include <algorithm>
#include <sstream>
#include <unordered_map>

#include "engine/kernels.hpp"

namespace electra {
namespace {

std::string describe_stats(const Tensor& tensor) {
  if (!tensor.defined()) return "undefined";
  const kernels::TensorStats s = kernels::stats(tensor);
  std::ostringstream out;
  out << tensor.describe() << " min " << s.min << " max " << s.max << " mean " << s.mean << " nan "
      << s.nan_count << " inf " << s.inf_count;
  return out.str();
}

// Each input with its name; an unnamed input made by an earlier node is named by that node and
// its named inputs ("output of node 8 'concat_rows' of 'q.weight', 'k.weight'"), so an anomaly
// still names the parameters behind a stacked or reshaped tensor.
std::string describe_inputs(const Node& node, const std::vector<Node>& nodes) {
  std::ostringstream out;
  for (std::size_t i = 0; i < node.inputs.size(); ++i) {
    const Var& input = node.inputs[i];
    out << "; input " << i;
    if (!input.name().empty()) {
      out << " '" << input.name() << "'";
    } else if (input.node() >= 0 && input.node() < static_cast<int>(nodes.size())) {
      const Node& producer = nodes[static_cast<std::size_t>(input.node())];
      out << " (output of node " << input.node() << " '" << producer.op << "'";
      const char* separator = " of ";
      for (const Var& source : producer.inputs) {
        if (source.name().empty()) continue;
        out << separator << "'" << source.name() << "'";
        separator = ", ";
      }
      out << ")";
    }
    out << ": " << describe_stats(input.value());
  }
  return out.str();
}

}  // namespace

Var Tape::record(std::string op, std::vector<Var> inputs, Tensor output,
                 std::function<void(const Var& output)> backward) {
  bool needs_grad = false;
  if (recording_)
    for (const Var& input : inputs) needs_grad = needs_grad || input.requires_grad();
  Var result(std::move(output), needs_grad);
  const int index = static_cast<int>(nodes_.size());
  if (anomaly_detection_ && !kernels::all_finite(result.value())) {
    Node probe{op, inputs, result, nullptr};
    throw_error("anomaly: op '", op, "' (node ", index, ") produced NaN/Inf in forward: output ",
                describe_stats(result.value()), describe_inputs(probe, nodes_));
  }
  if (needs_grad) {
    result.impl_->node = index;
    nodes_.push_back(Node{std::move(op), std::move(inputs), result, std::move(backward)});
  }
  return result;
}

void Tape::backward(const Var& loss) {
  check(loss.defined() && loss.value().numel() == 1,
        "backward: the loss must be a single element, "
        "got ",
        loss.defined() ? loss.value().shape().str() : std::string("undefined"));
  backward(loss, Tensor::full(loss.shape(), 1.0, loss.value().dtype()).to(loss.value().device()));
}

void Tape::backward(const Var& output, const Tensor& output_gradient) {
  check(output.requires_grad(), "backward: the output does not depend on any parameter");
  check_same_shape("backward", output.value(), output_gradient);
  check(output.node() < static_cast<int>(nodes_.size()),
        "backward: the graph of this output was already consumed by an earlier backward "
        "(record the forward again)");
  Var seeded = output;
  kernels::axpy(1.0, output_gradient, seeded.grad_buffer());
  std::vector<std::pair<int, Var>> leaves;
  if (gradient_ready_hook_) leaves = leaves_by_last_use();
  std::size_t next_leaf = 0;
  for (int index = static_cast<int>(nodes_.size()) - 1; index >= 0; --index) {
    Node& node = nodes_[index];
    if (node.output.has_grad()) {  // else nothing downstream used this output
      node.backward(node.output);
      if (anomaly_detection_) check_backward_finite(node, index);
    }
    // Every consumer of this node's output ran before it (the tape is in creation order), so
    // its gradient, its saved tensors and its handles to the inputs are dead from here on:
    // freeing them now keeps the peak at the activations plus a few gradients, not both sets.
    node.output.drop_grad();
    release(node);
    for (; next_leaf < leaves.size() && leaves[next_leaf].first == index; ++next_leaf)
      gradient_ready_hook_(leaves[next_leaf].second);
  }
  nodes_.clear();
}

std::vector<std::pair<int, Var>> Tape::leaves_by_last_use() const {
  std::unordered_map<const Var::Impl*, int> first_reader;
  std::vector<std::pair<int, Var>> leaves;
  for (int index = 0; index < static_cast<int>(nodes_.size()); ++index)
    for (const Var& input : nodes_[static_cast<std::size_t>(index)].inputs)
      if (input.requires_grad() && input.node() < 0 &&
          first_reader.emplace(input.impl_.get(), index).second)
        leaves.emplace_back(index, input);
  // Found in increasing index; the reverse loop wants them decreasing, ties kept in input order.
  std::stable_sort(leaves.begin(), leaves.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  return leaves;
}

void Tape::release(Node& node) {
  node.backward = nullptr;
  node.inputs.clear();
  node.output = Var();
}

void Tape::check_backward_finite(const Node& node, int index) const {
  for (std::size_t i = 0; i < node.inputs.size(); ++i) {
    const Var& input = node.inputs[i];
    if (!input.requires_grad() || !input.has_grad()) continue;
    if (kernels::all_finite(input.grad())) continue;
    throw_error("anomaly: op '", node.op, "' (node ", index,
                ") produced NaN/Inf in backward: gradient of input ", i,
                input.name().empty() ? "" : " '" + input.name() + "'", " ",
                describe_stats(input.grad()), "; output gradient ",
                describe_stats(node.output.grad()), describe_inputs(node, nodes_));
  }
}

void Tape::clear() { nodes_.clear(); }

std::string Tape::to_dot() const {
  std::ostringstream dot;
  dot << "digraph tape {\n  rankdir=BT;\n  node [fontname=\"Helvetica\"];\n";
  // Leaves are named by their Var identity; op nodes by their index.
  std::vector<const void*> leaves;
  auto leaf_id = [&](const Var& var) {
    for (std::size_t i = 0; i < leaves.size(); ++i)
      if (leaves[i] == &var.value()) return i;
    leaves.push_back(&var.value());
    return leaves.size() - 1;
  };
  auto quote = [](const std::string& text) {
    std::string escaped;
    for (char c : text) {
      if (c == '"' || c == '\\') escaped += '\\';
      escaped += c;
    }
    return '"' + escaped + '"';
  };
  for (std::size_t index = 0; index < nodes_.size(); ++index) {
    const Node& node = nodes_[index];
    dot << "  n" << index << " [shape=box, label=" << quote(node.op + " #" + std::to_string(index))
        << "];\n";
    for (const Var& input : node.inputs) {
      std::string source;
      if (input.node() >= 0) {
        source = "n" + std::to_string(input.node());
      } else {
        const std::size_t id = leaf_id(input);
        source = "l" + std::to_string(id);
        const std::string label = input.name().empty()
                                      ? input.value().describe()
                                      : input.name() + "\\n" + input.value().shape().str();
        dot << "  " << source << " [shape=ellipse, label=\"" << label << "\"";
        if (input.requires_grad()) dot << ", style=filled, fillcolor=lightblue";
        dot << "];\n";
      }
      dot << "  " << source << " -> n" << index << " [label=" << quote(input.shape().str())
          << "];\n";
    }
  }
  dot << "}\n";
  return dot.str();
}

}  // namespace electra
