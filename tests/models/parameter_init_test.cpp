// ParameterFactory: a parameter's initial value depends on the seed and its NAME only, so adding,
// removing or reordering other parameters (a layer more, an objective's head) never changes it.
#include "models/networks/parameter_init.hpp"

#include <doctest/doctest.h>

#include <cstring>

#include "models/networks/random_streams.hpp"

using namespace electra;

namespace {

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() &&
         std::memcmp(a.data<float>(), b.data<float>(),
                     static_cast<std::size_t>(a.numel()) * sizeof(float)) == 0;
}

}  // namespace

TEST_CASE("parameter init: a parameter registered after another keeps its values") {
  ParameterStore alone_store, shifted_store;
  ParameterFactory alone(alone_store, 7, DType::f32, 0.02);
  ParameterFactory shifted(shifted_store, 7, DType::f32, 0.02);
  const Tensor dense = alone.normal("encoder.layer.0.dense.weight", {4, 8}).value();
  const Tensor head = alone.glorot_uniform("discriminator.head.weight", {3, 5}).value();
  // A new layer (normal and Glorot draws) registered before both.
  shifted.normal("encoder.layer.new.dense.weight", {4, 8});
  shifted.glorot_uniform("encoder.layer.new.head.weight", {3, 5});
  const Tensor head_shifted = shifted.glorot_uniform("discriminator.head.weight", {3, 5}).value();
  const Tensor dense_shifted = shifted.normal("encoder.layer.0.dense.weight", {4, 8}).value();
  CHECK(same_bits(dense, dense_shifted));
  CHECK(same_bits(head, head_shifted));
}

TEST_CASE("parameter init: other names and other seeds draw other values") {
  ParameterStore store, other_seed_store;
  ParameterFactory factory(store, 7, DType::f32, 0.02);
  ParameterFactory other_seed(other_seed_store, 8, DType::f32, 0.02);
  const Tensor first = factory.normal("layer.0.weight", {16}).value();
  const Tensor second = factory.normal("layer.1.weight", {16}).value();
  const Tensor first_other_seed = other_seed.normal("layer.0.weight", {16}).value();
  CHECK_FALSE(same_bits(first, second));
  CHECK_FALSE(same_bits(first, first_other_seed));
}

TEST_CASE("parameter init: the name hash is FNV-1a 64 (published vectors), stable everywhere") {
  static_assert(streams::fnv1a_64("") == 0xcbf29ce484222325ull);
  CHECK(streams::fnv1a_64("a") == 0xaf63dc4c8601ec8cull);
  CHECK(streams::fnv1a_64("foobar") == 0x85944171f73967e8ull);
}
