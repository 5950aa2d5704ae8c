#pragma once
// One owner of the cores at a time. The thread count is a setting (default: all cores), shared by
// oneTBB (our loops) and OpenBLAS (GEMMs); when a TBB loop calls sgemm inside, OpenBLAS must run
// single-threaded there or the two pools oversubscribe the cores.
#include <cstdint>
#include <functional>

namespace electra {

int hardware_threads();
// Sets the number of threads both oneTBB and OpenBLAS may use; 0 means all cores.
void set_num_threads(int threads);
int num_threads();

// Splits [begin, end) into chunks of at least `grain` items over the TBB workers (serial when the
// range is small or one thread is set). body(chunk_begin, chunk_end).
void parallel_for(std::int64_t begin, std::int64_t end, std::int64_t grain,
                  const std::function<void(std::int64_t, std::int64_t)>& body);

// While alive, OpenBLAS runs on one thread (inside a TBB region that already owns the cores).
class SingleThreadedBlas {
 public:
  SingleThreadedBlas();
  ~SingleThreadedBlas();
  SingleThreadedBlas(const SingleThreadedBlas&) = delete;
  SingleThreadedBlas& operator=(const SingleThreadedBlas&) = delete;

 private:
  int previous_;
};

}  // namespace electra
