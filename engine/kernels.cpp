// The kernel table's names and call observer (engine/kernels.hpp); the kernels themselves
// validate and dispatch in engine/dispatch/*.cpp.
#include "engine/kernels.hpp"

#include <array>

#include "engine/dispatch/dispatch.hpp"

namespace electra::kernels {

namespace {
#define ELECTRA_KERNEL(return_type, name, parameters) std::string_view{#name},
constexpr std::array names{
#include "engine/kernel_list.inc"
};
#undef ELECTRA_KERNEL
}  // namespace

std::span<const std::string_view> kernel_names() { return names; }

void set_call_observer(CallObserver observer) { dispatch::observer = observer; }
CallObserver call_observer() { return dispatch::observer; }

}  // namespace electra::kernels
