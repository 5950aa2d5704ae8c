// The MPI communicator on every rank of mpirun -np 2 and -np 3: sums in rank order, bit for bit
// the same on every rank, several in flight at once; gather_strings; describe.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "mpi/mpi_suite.hpp"

using namespace electra;

namespace {

// Rank r's values: signs and magnitudes spread over 2^-20 … 2^20, so that rounding depends on
// the order of the additions ((x₀ + x₁) + x₂ ≠ x₀ + (x₁ + x₂) on many elements). Every rank can
// compute every other rank's values, hence the expected sum, without communicating.
template <typename T>
std::vector<T> values_of_rank(int rank, std::int64_t count, int salt) {
  std::mt19937_64 generator(static_cast<std::uint64_t>(1000 * salt + rank));
  std::uniform_real_distribution<double> mantissa(-1.0, 1.0);
  std::uniform_int_distribution<int> exponent(-20, 20);
  std::vector<T> values(static_cast<std::size_t>(count));
  for (T& value : values)
    value = static_cast<T>(std::ldexp(mantissa(generator), exponent(generator)));
  return values;
}

// (((x₀ + x₁) + x₂) …) in T, the order the communicator promises.
template <typename T>
std::vector<T> rank_ordered_sum(int ranks, std::int64_t count, int salt) {
  std::vector<T> total = values_of_rank<T>(0, count, salt);
  for (int r = 1; r < ranks; ++r) {
    const std::vector<T> next = values_of_rank<T>(r, count, salt);
    for (std::size_t i = 0; i < total.size(); ++i) total[i] = total[i] + next[i];
  }
  return total;
}

// The same terms added last-to-first, ((x_{N−1} + x_{N−2}) + …): differs from the rank order
// on some elements for N ≥ 3 with these values (checked, so the test can tell the orders apart).
template <typename T>
std::vector<T> reverse_ordered_sum(int ranks, std::int64_t count, int salt) {
  std::vector<T> total = values_of_rank<T>(ranks - 1, count, salt);
  for (int r = ranks - 2; r >= 0; --r) {
    const std::vector<T> next = values_of_rank<T>(r, count, salt);
    for (std::size_t i = 0; i < total.size(); ++i) total[i] = total[i] + next[i];
  }
  return total;
}

template <typename T>
bool same_bits(const Tensor& tensor, const std::vector<T>& expected) {
  return static_cast<std::size_t>(tensor.numel()) == expected.size() &&
         std::memcmp(tensor.raw(), expected.data(), expected.size() * sizeof(T)) == 0;
}

template <typename T>
void check_sums_for_sizes() {
  Communicator& communicator = test_communicator();
  const int ranks = communicator.size();
  int salt = 0;
  // 1 element: every chunk but one is empty; 7 and 1001 do not divide by 2 or 3.
  for (const std::int64_t count : {std::int64_t{1}, std::int64_t{7}, std::int64_t{1001}}) {
    ++salt;
    INFO("count ", count, ", ", ranks, " ranks, ", sizeof(T) == 4 ? "f32" : "f64");
    Tensor buffer =
        Tensor::from_vector(values_of_rank<T>(communicator.rank(), count, salt), Shape{count});
    communicator.sum(buffer);
    const std::vector<T> expected = rank_ordered_sum<T>(ranks, count, salt);
    CHECK(same_bits(buffer, expected));
    if (ranks >= 3 && count == 1001)
      CHECK_FALSE(same_bits(buffer, reverse_ordered_sum<T>(ranks, count, salt)));
  }
}

}  // namespace

TEST_CASE("mpi communicator: sums are rank-ordered and bit-identical on every rank (f32, f64)") {
  check_sums_for_sizes<float>();
  check_sums_for_sizes<double>();
  if (test_communicator().size() == 2) {  // N = 2: exactly x₀ + x₁, elementwise, on both ranks
    const std::vector<float> x0 = values_of_rank<float>(0, 64, 99),
                             x1 = values_of_rank<float>(1, 64, 99);
    Tensor buffer = Tensor::from_vector(test_communicator().rank() == 0 ? x0 : x1, Shape{8, 8});
    test_communicator().sum(buffer);
    std::vector<float> expected(64);
    for (std::size_t i = 0; i < 64; ++i) expected[i] = x0[i] + x1[i];
    CHECK(same_bits(buffer, expected));
  }
}

TEST_CASE("mpi communicator: several sums in flight, polled, finished out of order or dropped") {
  Communicator& communicator = test_communicator();
  const int ranks = communicator.size(), rank = communicator.rank();
  Tensor a = Tensor::from_vector(values_of_rank<float>(rank, 300, 11), Shape{300});
  Tensor b = Tensor::from_vector(values_of_rank<double>(rank, 5, 12), Shape{5});
  Tensor c = Tensor::from_vector(values_of_rank<float>(rank, 2, 13), Shape{2});
  Tensor d = Tensor::from_vector(values_of_rank<double>(rank, 40, 14), Shape{40});
  std::unique_ptr<PendingSum> pending_a = communicator.start_sum(a);
  std::unique_ptr<PendingSum> pending_b = communicator.start_sum(b);
  pending_b->poll();  // ranks poll at different moments: the collective order must not depend on it
  std::unique_ptr<PendingSum> pending_c = communicator.start_sum(c);
  {
    std::unique_ptr<PendingSum> dropped = communicator.start_sum(d);  // its destructor waits
  }
  if (rank == 0) pending_a->poll();
  pending_c->wait();
  pending_a->wait();
  CHECK(pending_a->poll());
  pending_b->wait();
  CHECK(same_bits(a, rank_ordered_sum<float>(ranks, 300, 11)));
  CHECK(same_bits(b, rank_ordered_sum<double>(ranks, 5, 12)));
  CHECK(same_bits(c, rank_ordered_sum<float>(ranks, 2, 13)));
  CHECK(same_bits(d, rank_ordered_sum<double>(ranks, 40, 14)));
}

TEST_CASE("mpi communicator: gather_strings, describe, wait time, rejected buffers") {
  Communicator& communicator = test_communicator();
  const int ranks = communicator.size(), rank = communicator.rank();
  auto text_of = [](int r) { return r == 0 ? std::string() : "rank " + std::string(r * 3, 'x'); };
  std::vector<std::string> expected;
  for (int r = 0; r < ranks; ++r) expected.push_back(text_of(r));
  CHECK(communicator.gather_strings(text_of(rank)) == expected);
  CHECK(communicator.wait_seconds() > 0.0);  // blocked at least in the calls above
  CHECK(communicator.describe().find(std::to_string(ranks) + " processes (Open MPI ") == 0);
  CHECK(communicator.is_root() == (rank == 0));
  Tensor ids = Tensor::from_vector(std::vector<std::int32_t>{1}, Shape{1});
  CHECK_THROWS_WITH(communicator.start_sum(ids), doctest::Contains("f32 or f64 buffers only"));
}
