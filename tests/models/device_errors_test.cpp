// What a user sees when asking for cuda where it cannot be had, checked in every build and on
// every machine: flags and queries fail with one clear line naming the reason, a model is refused
// before any parameter exists, and kernels refuse tensors on mixed devices. The training parity
// run itself needs a GPU and lives in tests/cuda/parity_test.cpp.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "engine/device.hpp"
#include "engine/kernels.hpp"
#include "models/networks/electra_model.hpp"

using namespace electra;

namespace {

ModelConfig small_config() {
  ModelConfig config = model_preset("tiny");
  config.vocab_size = 60;
  config.seq_len = 16;
  config.batch_size = 2;
  return config;
}

}  // namespace

TEST_CASE("device errors: a kernel call mixing cpu and cuda tensors names the kernel and devices") {
  const Tensor on_cpu = Tensor::full({2, 3}, 1.0);
  std::string why_not;
  if (!cuda_available(&why_not)) {
    // No mixed call can be made: asking for a cuda tensor already fails, with the reason.
    INFO("cuda_available says: " << why_not);
    CHECK_FALSE(why_not.empty());
    CHECK_THROWS_WITH_AS(Tensor::empty({2, 3}, DType::f32, Device::cuda),
                         doctest::Contains(why_not.substr(0, 20).c_str()), Error);
    MESSAGE("no GPU: checked that a cuda tensor is refused with the reason (" << why_not << ")");
    return;
  }
  const Tensor on_cuda = on_cpu.to(Device::cuda);
  Tensor out = Tensor::empty({2, 3}, DType::f32, Device::cuda);
  try {
    kernels::add(on_cuda, on_cpu, out);
    FAIL("kernels::add accepted a cpu tensor next to cuda tensors");
  } catch (const Error& error) {
    const std::string message = error.what();
    CHECK(message.find("add") != std::string::npos);
    CHECK(message.find("cuda") != std::string::npos);
    CHECK(message.find("cpu") != std::string::npos);
  }
  // Same devices dispatch to CUDA and compute.
  kernels::add(on_cuda, on_cuda, out);
  CHECK(out.to(Device::cpu).to_vector() == std::vector<double>(6, 2.0));
}

TEST_CASE("device errors: device flags and queries fail with one clear line") {
  CHECK(parse_device("cpu", "--device") == Device::cpu);
  CHECK(parse_device("cuda", "--device") == Device::cuda);
  CHECK_THROWS_WITH_AS(parse_device("gpu", "--device"), "--device: expected cpu or cuda, got 'gpu'",
                       Error);
  CHECK_NOTHROW(require_device(Device::cpu, "--device"));
  CHECK(device_description(Device::cpu).rfind("cpu: ", 0) == 0);
  std::string why_not;
  if (cuda_available(&why_not)) {
    CHECK_NOTHROW(require_device(Device::cuda, "--device"));
    return;
  }
  CHECK_THROWS_WITH_AS(require_device(Device::cuda, "--device"),
                       ("--device cuda: " + why_not).c_str(), Error);
  // A CUDA model cannot be built here: the error is the device's, before any parameter exists.
  ParameterStore store;
  CHECK_THROWS_WITH_AS(ElectraModel(small_config(), store, 1, DType::f32, Device::cuda),
                       ("ElectraModel: device cuda: " + why_not).c_str(), Error);
  CHECK(store.size() == 0);
}

TEST_CASE("device errors: an f64 model on cuda is refused because the CUDA backend is f32 only") {
  ParameterStore store;
  CHECK_THROWS_WITH_AS(ElectraModel(small_config(), store, 1, DType::f64, Device::cuda),
                       doctest::Contains("f32 only"), Error);
  CHECK(store.size() == 0);
}
