#pragma once
// Tensor: a contiguous row-major array of f32, f64 or i32 of rank ≤ 4 on one device, held by a
// shared buffer. `reshape` is a view sharing the buffer; every other operation makes a new tensor.
#include <array>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "engine/error.hpp"

namespace electra {

enum class DType : std::uint8_t { f32, f64, i32 };
enum class Device : std::uint8_t { cpu, cuda };

std::size_t dtype_size(DType dtype);
const char* dtype_name(DType dtype);
const char* device_name(Device device);

template <typename T>
constexpr DType dtype_of();
template <>
constexpr DType dtype_of<float>() {
  return DType::f32;
}
template <>
constexpr DType dtype_of<double>() {
  return DType::f64;
}
template <>
constexpr DType dtype_of<std::int32_t>() {
  return DType::i32;
}

class Shape {
 public:
  static constexpr int max_rank = 4;
  Shape() = default;
  Shape(std::initializer_list<std::int64_t> dims);
  explicit Shape(const std::vector<std::int64_t>& dims);

  int rank() const { return rank_; }
  // Negative indices count from the end, as in Python.
  std::int64_t operator[](int axis) const;
  std::int64_t numel() const;
  // Product of all dimensions but the last: the row count when viewed as a matrix.
  std::int64_t rows() const { return rank_ == 0 ? 1 : numel() / dims_[rank_ - 1]; }
  std::int64_t cols() const { return rank_ == 0 ? 1 : dims_[rank_ - 1]; }
  std::vector<std::int64_t> dims() const { return {dims_.begin(), dims_.begin() + rank_}; }
  std::string str() const;  // "[4, 128, 256]"
  bool operator==(const Shape& other) const;

 private:
  std::array<std::int64_t, max_rank> dims_{};
  int rank_ = 0;
};

std::ostream& operator<<(std::ostream& out, const Shape& shape);

// Raw memory owned by a device allocator; returned to its cache when the last tensor lets go.
class Storage {
 public:
  Storage(std::size_t bytes, Device device);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  void* data() const { return data_; }
  std::size_t bytes() const { return bytes_; }
  Device device() const { return device_; }

 private:
  void* data_ = nullptr;
  std::size_t bytes_ = 0;
  Device device_ = Device::cpu;
};

class Tensor {
 public:
  Tensor() = default;  // undefined: holds no storage

  static Tensor empty(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu);
  static Tensor zeros(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu);
  static Tensor full(const Shape& shape, double value, DType dtype = DType::f32);
  template <typename T>
  static Tensor from_vector(const std::vector<T>& values, const Shape& shape) {
    check(static_cast<std::int64_t>(values.size()) == shape.numel(),
          "Tensor::from_vector: ", values.size(), " values for shape ", shape.str());
    Tensor tensor = empty(shape, dtype_of<T>());
    std::copy(values.begin(), values.end(), tensor.data<T>());
    return tensor;
  }

  bool defined() const { return storage_ != nullptr; }
  const Shape& shape() const { return shape_; }
  int rank() const { return shape_.rank(); }
  std::int64_t dim(int axis) const { return shape_[axis]; }
  std::int64_t numel() const { return shape_.numel(); }
  DType dtype() const { return dtype_; }
  Device device() const { return device_; }
  std::size_t nbytes() const { return static_cast<std::size_t>(numel()) * dtype_size(dtype_); }

  void* raw() const { return storage_ ? static_cast<char*>(storage_->data()) : nullptr; }
  // Typed access; throws when T does not match the dtype (a silent reinterpretation is a bug).
  template <typename T>
  T* data() const {
    check(dtype_ == dtype_of<T>(), "Tensor::data: tensor is ", dtype_name(dtype_), ", asked for ",
          dtype_name(dtype_of<T>()));
    return static_cast<T*>(raw());
  }
  // Host-side element read for tests and small scalars (copies from the device if needed).
  double item(std::int64_t flat_index = 0) const;

  Tensor reshape(const Shape& shape) const;  // a view: shares the buffer
  Tensor clone() const;
  Tensor to(DType dtype) const;
  Tensor to(Device device) const;
  std::vector<double> to_vector() const;  // any dtype, as doubles, for tests and printing
  void fill_(double value);
  void zero_();
  // Same buffer, same view: identity of storage, not equality of values.
  bool is_same(const Tensor& other) const {
    return storage_ == other.storage_ && shape_ == other.shape_;
  }
  std::string describe() const;  // "f32[4, 256] cpu"

 private:
  std::shared_ptr<Storage> storage_;
  Shape shape_;
  DType dtype_ = DType::f32;
  Device device_ = Device::cpu;
};

// Writes describe(): a tensor is a message part that costs nothing until the message is built.
std::ostream& operator<<(std::ostream& out, const Tensor& tensor);

// Throws electra::Error "op: <what> expected shape X, got Y" when shapes differ.
void check_shape(const char* op, const char* what, const Tensor& tensor, const Shape& expected);
void check_same_shape(const char* op, const Tensor& a, const Tensor& b);
void check_dtype(const char* op, const Tensor& tensor, DType expected);
void check_nonempty(const char* op, const Tensor& tensor);

}  // namespace electra
