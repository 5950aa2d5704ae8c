// Gradcheck cases for embedding and gather_rows, with repeated ids (the scatter must add).
#include "autograd/op_cases.hpp"
#include "autograd/ops.hpp"

namespace electra {

void append_embedding_cases(std::vector<OpCase>& cases) {
  const Tensor ids = Tensor::from_vector<std::int32_t>({4, 0, 2, 2, 4, 1}, Shape{2, 3});
  cases.push_back({"embedding",
                   "table [5, 3], ids [2, 3] with repeats",
                   [ids](Tape& tape, const std::vector<Var>& v) {
                     return ops::embedding(tape, v[0], constant_like(ids, v[0]));
                   },
                   {random_f64(Shape{5, 3}, 500)},
                   {}});
  const Tensor single = Tensor::from_vector<std::int32_t>({0}, Shape{1});
  cases.push_back({"embedding",
                   "table [1, 1], ids [1]",
                   [single](Tape& tape, const std::vector<Var>& v) {
                     return ops::embedding(tape, v[0], constant_like(single, v[0]));
                   },
                   {random_f64(Shape{1, 1}, 501)},
                   {}});
  const Tensor index = Tensor::from_vector<std::int32_t>({5, 0, 5}, Shape{3});
  cases.push_back({"gather_rows",
                   "x [2, 3, 4] rows [5, 0, 5]",
                   [index](Tape& tape, const std::vector<Var>& v) {
                     return ops::gather_rows(tape, v[0], constant_like(index, v[0]));
                   },
                   {random_f64(Shape{2, 3, 4}, 502)},
                   {}});
  const Tensor one_row = Tensor::from_vector<std::int32_t>({2}, Shape{1});
  cases.push_back({"gather_rows",
                   "x [3, 1] row [2]",
                   [one_row](Tape& tape, const std::vector<Var>& v) {
                     return ops::gather_rows(tape, v[0], constant_like(one_row, v[0]));
                   },
                   {random_f64(Shape{3, 1}, 503)},
                   {}});
}

}  // namespace electra
