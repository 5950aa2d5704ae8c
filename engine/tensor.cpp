#include "engine/tensor.hpp"

#include <cstring>
#include <sstream>

#include "engine/allocator.hpp"
#include "engine/threads.hpp"
#ifdef ELECTRA_HAS_CUDA
#include "engine/cuda/cuda_runtime.hpp"
#endif

namespace electra {
std::size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::f32:
      return 4;
    case DType::f64:
      return 8;
    case DType::i32:
      return 4;
  }
  return 0;
}

const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::f32:
      return "f32";
    case DType::f64:
      return "f64";
    case DType::i32:
      return "i32";
  }
  return "?";
}

const char* device_name(Device device) { return device == Device::cpu ? "cpu" : "cuda"; }

Shape::Shape(std::initializer_list<std::int64_t> dims) : Shape(std::vector<std::int64_t>(dims)) {}

Shape::Shape(const std::vector<std::int64_t>& dims) {
  check(dims.size() <= max_rank, "Shape: rank ", dims.size(), " exceeds the maximum of ", max_rank);
  rank_ = static_cast<int>(dims.size());
  for (int axis = 0; axis < rank_; ++axis) {
    check(dims[axis] >= 0, "Shape: negative dimension ", dims[axis]);
    dims_[axis] = dims[axis];
  }
}

std::int64_t Shape::operator[](int axis) const {
  const int resolved = axis < 0 ? axis + rank_ : axis;
  check(resolved >= 0 && resolved < rank_, "Shape: axis ", axis, " out of range for ", str());
  return dims_[resolved];
}

std::int64_t Shape::numel() const {
  std::int64_t count = 1;
  for (int axis = 0; axis < rank_; ++axis) count *= dims_[axis];
  return count;
}

std::string Shape::str() const {
  std::ostringstream out;
  out << '[';
  for (int axis = 0; axis < rank_; ++axis) out << (axis ? ", " : "") << dims_[axis];
  out << ']';
  return out.str();
}

bool Shape::operator==(const Shape& other) const {
  if (rank_ != other.rank_) return false;
  for (int axis = 0; axis < rank_; ++axis)
    if (dims_[axis] != other.dims_[axis]) return false;
  return true;
}

std::ostream& operator<<(std::ostream& out, const Shape& shape) { return out << shape.str(); }
std::ostream& operator<<(std::ostream& out, const Tensor& tensor) {
  return out << tensor.describe();
}

Storage::Storage(std::size_t bytes, Device device)
    : data_(allocator_for(device).allocate(bytes)), bytes_(bytes), device_(device) {}

Storage::~Storage() { allocator_for(device_).release(data_, bytes_); }

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
  Tensor tensor;
  tensor.shape_ = shape;
  tensor.dtype_ = dtype;
  tensor.device_ = device;
  tensor.storage_ = std::make_shared<Storage>(shape.numel() * dtype_size(dtype), device);
  return tensor;
}

Tensor Tensor::zeros(const Shape& shape, DType dtype, Device device) {
  Tensor tensor = empty(shape, dtype, device);
  tensor.zero_();
  return tensor;
}

Tensor Tensor::full(const Shape& shape, double value, DType dtype) {
  Tensor tensor = empty(shape, dtype);
  tensor.fill_(value);
  return tensor;
}

namespace {
void copy_between(void* destination, Device destination_device, const void* source,
                  Device source_device, std::size_t bytes) {
  if (bytes == 0) return;
  if (destination_device == Device::cpu && source_device == Device::cpu) {
    parallel_memcpy(destination, source, bytes);
    return;
  }
#ifdef ELECTRA_HAS_CUDA
  cuda::copy_bytes(destination, destination_device, source, source_device, bytes);
#else
  throw_error("device cuda: this build of electra has no CUDA backend (rebuild where nvcc exists)");
#endif
}
}  // namespace

double Tensor::item(std::int64_t flat_index) const {
  check(defined(), "Tensor::item: undefined tensor");
  check(flat_index >= 0 && flat_index < numel(), "Tensor::item: index ", flat_index,
        " out of range for ", shape_);
  const std::size_t element = dtype_size(dtype_);
  alignas(8) unsigned char bytes[8];
  copy_between(bytes, Device::cpu, static_cast<const char*>(raw()) + flat_index * element, device_,
               element);
  switch (dtype_) {
    case DType::f32: {
      float value;
      std::memcpy(&value, bytes, 4);
      return value;
    }
    case DType::f64: {
      double value;
      std::memcpy(&value, bytes, 8);
      return value;
    }
    case DType::i32: {
      std::int32_t value;
      std::memcpy(&value, bytes, 4);
      return value;
    }
  }
  return 0;
}

Tensor Tensor::reshape(const Shape& shape) const {
  check(shape.numel() == numel(), "reshape: cannot view ", shape_, " (", numel(), " elements) as ",
        shape);
  Tensor view = *this;
  view.shape_ = shape;
  return view;
}

Tensor Tensor::clone() const {
  Tensor copy = empty(shape_, dtype_, device_);
  copy_between(copy.raw(), device_, raw(), device_, nbytes());
  return copy;
}

namespace {
template <typename To, typename From>
void convert(To* destination, const From* source, std::int64_t count) {
  for (std::int64_t i = 0; i < count; ++i) destination[i] = static_cast<To>(source[i]);
}

template <typename To>
void convert_from(To* destination, const Tensor& source) {
  switch (source.dtype()) {
    case DType::f32:
      convert(destination, source.data<float>(), source.numel());
      break;
    case DType::f64:
      convert(destination, source.data<double>(), source.numel());
      break;
    case DType::i32:
      convert(destination, source.data<std::int32_t>(), source.numel());
      break;
  }
}
}  // namespace

Tensor Tensor::to(DType dtype) const {
  if (dtype == dtype_) return clone();
  if (device_ != Device::cpu) return to(Device::cpu).to(dtype).to(device_);
  Tensor converted = empty(shape_, dtype);
  switch (dtype) {
    case DType::f32:
      convert_from(converted.data<float>(), *this);
      break;
    case DType::f64:
      convert_from(converted.data<double>(), *this);
      break;
    case DType::i32:
      convert_from(converted.data<std::int32_t>(), *this);
      break;
  }
  return converted;
}

Tensor Tensor::to(Device device) const {
  if (device == device_) return *this;
  Tensor moved = empty(shape_, dtype_, device);
  copy_between(moved.raw(), device, raw(), device_, nbytes());
  return moved;
}

std::vector<double> Tensor::to_vector() const {
  if (device_ != Device::cpu) return to(Device::cpu).to_vector();
  std::vector<double> values(numel());
  convert_from(values.data(), *this);
  return values;
}

void Tensor::fill_(double value) {
  if (device_ != Device::cpu) {
    Tensor host = full(shape_, value, dtype_);
    copy_between(raw(), device_, host.raw(), Device::cpu, nbytes());
    return;
  }
  const std::int64_t count = numel();
  switch (dtype_) {
    case DType::f32:
      std::fill_n(data<float>(), count, static_cast<float>(value));
      break;
    case DType::f64:
      std::fill_n(data<double>(), count, value);
      break;
    case DType::i32:
      std::fill_n(data<std::int32_t>(), count, static_cast<std::int32_t>(value));
      break;
  }
}

void Tensor::zero_() {
  if (device_ != Device::cpu) {
    fill_(0.0);
    return;
  }
  parallel_memset_zero(raw(), nbytes());
}

std::string Tensor::describe() const {
  if (!defined()) return "undefined";
  std::ostringstream out;
  out << dtype_name(dtype_) << shape_.str() << ' ' << device_name(device_);
  return out.str();
}

void check_shape(const char* op, const char* what, const Tensor& tensor, const Shape& expected) {
  check(tensor.shape() == expected, op, ": ", what, " expected shape ", expected, ", got ",
        tensor.shape());
}

void check_same_shape(const char* op, const Tensor& a, const Tensor& b) {
  check(a.shape() == b.shape(), op, ": shape mismatch ", a.shape(), " vs ", b.shape());
  check(a.dtype() == b.dtype(), op, ": dtype mismatch ", dtype_name(a.dtype()), " vs ",
        dtype_name(b.dtype()));
}

void check_dtype(const char* op, const Tensor& tensor, DType expected) {
  check(tensor.dtype() == expected, op, ": expected ", dtype_name(expected), ", got ",
        dtype_name(tensor.dtype()), " ", tensor.shape());
}

void check_nonempty(const char* op, const Tensor& tensor) {
  check(tensor.defined() && tensor.numel() > 0, op, ": empty tensor ", tensor.shape());
}

}  // namespace electra
