// Jetstream event decoder (pipeline/decode.hpp). Oracles: never crashes or throws; at most one
// event per message; every event names a valid DID (and record key for follows); the
// pre-filtered decoders (with and without the labeler DID) never invent events the full parse
// does not produce, and when both decode, they agree on the cursor.
// fuzz-libs: labeler::pipeline
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "pipeline/decode.hpp"
#include "src/atproto/syntax.hpp"

using namespace labeler::pipeline;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static jetstream_decoder fast(1 << 20, true);
    static jetstream_decoder full(1 << 20, false);
    static jetstream_decoder keep(1 << 20, true, "did:plc:labelerxxxxxxxxxxxxxxxxx");
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    std::vector<event> a, b, k;
    auto ra = fast(in, a);
    auto rb = full(in, b);
    auto rk = keep(in, k);
    if (k.size() > 1 || (!rk && !k.empty())) std::abort();
    if (!k.empty() && (b.size() != 1 || k[0].did != b[0].did || k[0].kind != b[0].kind ||
                       k[0].rkey != b[0].rkey || k[0].subject != b[0].subject))
        std::abort();
    if (rk && rb && rk->cursor != rb->cursor) std::abort();
    if (a.size() > 1 || b.size() > 1) std::abort();
    if (!ra && !a.empty()) std::abort();
    if (!rb && !b.empty()) std::abort();
    for (auto& ev : b) {
        if (!labeler::atproto::is_valid_did(ev.did)) std::abort();
        if (ev.kind != event_kind::account_change &&
            !labeler::atproto::is_valid_record_key(ev.rkey))
            std::abort();
    }
    if (!a.empty()) {
        if (b.size() != 1 || a[0].did != b[0].did || a[0].kind != b[0].kind ||
            a[0].rkey != b[0].rkey || a[0].subject != b[0].subject)
            std::abort();
    }
    if (ra && rb && ra->cursor != rb->cursor) std::abort();
    (void)peek_time_us(in);
    return 0;
}
