// CAR v1 reader. Oracle: every block returned with verification on hashes to its CID and can be
// found again; verification off never accepts less than verification on.
#include <cstdint>
#include <cstdlib>

#include "src/atproto/car.hpp"

using namespace labeler::atproto;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> in(data, size);
    auto verified = parse_car(in, true);
    auto loose = parse_car(in, false);
    if (verified && !loose) std::abort();
    if (verified) {
        for (const auto& b : verified->blocks) {
            if (!b.id.matches(b.data)) std::abort();
            if (verified->find(b.id) == nullptr) std::abort();
        }
        for (const auto& r : verified->roots) (void)verified->find(r);
    }
    return 0;
}
