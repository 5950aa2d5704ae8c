#pragma once
// The gradcheck cases of every op, at several shapes and edge cases (size-1 dimensions, rows
// with all but one key masked, logits of ±30). Shared by the test suite and `electra audit`, so
// the table a user prints is exactly what CI proves.
#include <string>
#include <vector>

#include "autograd/gradcheck.hpp"

namespace electra {

struct OpCase {
  std::string op;     // "layer_norm"
  std::string shape;  // "x [3, 1, 8]" — what this case exercises
  GradcheckFunction function;
  std::vector<Tensor> inputs;  // f64
  GradcheckOptions options;
};

// Random f64 tensor with entries uniform in [low, high), reproducible from seed.
Tensor random_f64(const Shape& shape, std::uint64_t seed, double low = -1.0, double high = 1.0);

// One function per op family, each in autograd/cases/<family>_cases.cpp.
void append_matmul_cases(std::vector<OpCase>& cases);
void append_elementwise_cases(std::vector<OpCase>& cases);
void append_reduce_cases(std::vector<OpCase>& cases);
void append_shape_cases(std::vector<OpCase>& cases);
void append_softmax_cases(std::vector<OpCase>& cases);
void append_layer_norm_cases(std::vector<OpCase>& cases);
void append_embedding_cases(std::vector<OpCase>& cases);
void append_dropout_cases(std::vector<OpCase>& cases);
void append_loss_cases(std::vector<OpCase>& cases);
void append_focal_cases(std::vector<OpCase>& cases);  // cases/focal_cases.cpp
void append_attention_cases(std::vector<OpCase>& cases);
void append_copy_mixture_cases(std::vector<OpCase>& cases);

std::vector<OpCase> all_op_cases();

}  // namespace electra
