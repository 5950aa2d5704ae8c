// embedding_forward/backward, gather_rows and permute_0213.
#include <doctest/doctest.h>

#include "engine/kernels.hpp"
#include "helpers/errors.hpp"
#include "helpers/random_tensors.hpp"
#include "helpers/text.hpp"
#include "helpers/threads.hpp"

using namespace electra;
using namespace electra::test;

TEST_CASE("embedding: forward picks rows, backward adds repeated ids") {
  const Tensor table = Tensor::from_vector<float>({0, 1, 10, 11, 20, 21}, Shape{3, 2});
  const Tensor ids = Tensor::from_vector<std::int32_t>({2, 0, 2}, Shape{1, 3});
  Tensor out = Tensor::empty(Shape{1, 3, 2});
  kernels::embedding_forward(table, ids, out);
  CHECK(out.to_vector() == std::vector<double>{20, 21, 0, 1, 20, 21});
  Tensor dtable = Tensor::full(Shape{3, 2}, 0.5);
  const Tensor dout = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, Shape{1, 3, 2});
  kernels::embedding_backward_accumulate(ids, dout, dtable);
  CHECK(dtable.to_vector() == std::vector<double>{3.5, 4.5, 0.5, 0.5, 6.5, 8.5});
}

TEST_CASE("embedding: backward is bit-identical on one and two threads, f32 close to f64") {
  const std::int64_t vocab = 50, width = 200, positions = 4000;
  std::vector<std::int32_t> id_values(positions);
  for (std::int64_t n = 0; n < positions; ++n)
    id_values[n] = static_cast<std::int32_t>((n * 7919) % vocab);
  const Tensor ids = Tensor::from_vector(id_values, Shape{positions});
  const Tensor dout64 = random_tensor(Shape{positions, width}, 4);
  const Tensor dout = dout64.to(DType::f32);
  const auto [one, two] = on_one_and_two_threads<std::vector<double>>([&] {
    Tensor dtable = Tensor::zeros(Shape{vocab, width});
    kernels::embedding_backward_accumulate(ids, dout, dtable);
    return dtable.to_vector();
  });
  CHECK(one == two);
  Tensor dtable64 = Tensor::zeros(Shape{vocab, width}, DType::f64);
  kernels::embedding_backward_accumulate(ids, dout64, dtable64);
  const std::vector<double> reference = dtable64.to_vector();
  double worst = 0;
  for (std::size_t i = 0; i < reference.size(); ++i)
    worst = std::max(worst, std::abs(one[i] - reference[i]));
  CHECK(worst < 1e-4);  // sums of ~80 values of magnitude ≤ 1 in f32
}

TEST_CASE("gather_rows: rows of a flattened [R, C] view") {
  const Tensor x = Tensor::from_vector<double>({0, 1, 2, 3, 4, 5, 6, 7}, Shape{2, 2, 2});
  const Tensor index = Tensor::from_vector<std::int32_t>({3, 1}, Shape{2});
  Tensor out = Tensor::empty(Shape{2, 2}, DType::f64);
  kernels::gather_rows(x, index, out);
  CHECK(out.to_vector() == std::vector<double>{6, 7, 2, 3});
}

TEST_CASE("permute_0213: swaps the middle axes, accumulate adds") {
  const Tensor x = random_tensor(Shape{2, 3, 4, 5}, 5);
  Tensor y = Tensor::empty(Shape{2, 4, 3, 5}, DType::f64);
  kernels::permute_0213(x, y);
  for (int a = 0; a < 2; ++a)
    for (int b = 0; b < 3; ++b)
      for (int c = 0; c < 4; ++c)
        for (int d = 0; d < 5; ++d)
          REQUIRE(y.item(((a * 4 + c) * 3 + b) * 5 + d) == x.item(((a * 3 + b) * 4 + c) * 5 + d));
  Tensor back = Tensor::full(Shape{2, 3, 4, 5}, 1.0, DType::f64);
  kernels::permute_0213_accumulate(y, back);
  for (std::int64_t i = 0; i < x.numel(); ++i) REQUIRE(back.item(i) == x.item(i) + 1.0);
}

TEST_CASE("embedding, gather_rows, permute: errors name ids, table sizes and shapes") {
  const Tensor table = Tensor::zeros(Shape{4, 3});
  Tensor out = Tensor::zeros(Shape{2, 3});
  const Tensor bad = Tensor::from_vector<std::int32_t>({1, 4}, Shape{2});
  CHECK(error_of([&] { kernels::embedding_forward(table, bad, out); }) ==
        "embedding_forward: id 4 at position 1 is out of range for a table of 4 rows");
  Tensor dtable = Tensor::zeros(Shape{4, 3});
  const Tensor negative = Tensor::from_vector<std::int32_t>({-3, 0}, Shape{2});
  CHECK(contains(error_of([&] { kernels::embedding_backward_accumulate(negative, out, dtable); }),
                 "id -3 at position 0 is out of range for a table of 4 rows"));
  const Tensor ids = Tensor::from_vector<std::int32_t>({1, 2}, Shape{2});
  Tensor wrong_out = Tensor::zeros(Shape{2, 4});
  CHECK(contains(error_of([&] { kernels::embedding_forward(table, ids, wrong_out); }),
                 "out expected [2, 3] for ids [2] and table [4, 3], got [2, 4]"));
  CHECK(contains(error_of([&] { kernels::embedding_forward(table, Tensor::zeros(Shape{2}), out); }),
                 "expected i32"));
  CHECK(contains(error_of([&] {
                   kernels::embedding_forward(table, Tensor::zeros(Shape{0}, DType::i32), out);
                 }),
                 "empty tensor"));
  CHECK(contains(error_of([&] {
                   kernels::gather_rows(table, Tensor::from_vector<std::int32_t>({9}, Shape{1}),
                                        out);
                 }),
                 "gather_rows: id 9"));
  Tensor permuted = Tensor::zeros(Shape{2, 3, 4, 5});
  CHECK(contains(error_of([&] {
                   kernels::permute_0213(Tensor::zeros(Shape{2, 3, 4, 5}), permuted);
                 }),
                 "permute_0213: out expected [2, 4, 3, 5] for x [2, 3, 4, 5], got [2, 3, 4, 5]"));
}
