#pragma once
// The CUDA backend's runtime pieces the device-independent engine calls into (built only when
// ELECTRA_HAS_CUDA is defined): the caching device allocator and host<->device copies.
#include <cstddef>
#include <string>

#include "engine/allocator.hpp"

namespace electra::cuda {

bool device_available();           // a GPU is visible and usable
std::string device_description();  // "NVIDIA H100 80GB HBM3, 79 GiB" or why there is none
CachingAllocator& device_allocator();
// Copies bytes between any two of host and device memory and waits for completion.
void copy_bytes(void* destination, Device destination_device, const void* source,
                Device source_device, std::size_t bytes);
void synchronize();

}  // namespace electra::cuda
