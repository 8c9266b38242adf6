// Firehose frame decoder (pipeline/decode.hpp). Oracles: never crashes or throws; a decoded
// frame also peeks with the same cursor; every event names a valid DID and record key; a failed decode leaves no events behind.
// fuzz-libs: labeler::pipeline
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "pipeline/decode.hpp"
#include "src/atproto/syntax.hpp"

using namespace labeler::pipeline;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static firehose_decoder dec(1 << 20);
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    std::vector<event> out;
    auto r = dec(in, out);
    if (!r) {
        if (!out.empty()) std::abort();
        return 0;
    }
    auto p = dec.peek(in);
    if (!p || p->cursor != r->cursor || p->has_cursor != r->has_cursor) std::abort();
    for (auto& ev : out) {
        if (!labeler::atproto::is_valid_did(ev.did)) std::abort();
        if (ev.kind == event_kind::account_change) continue;
        if (!labeler::atproto::is_valid_record_key(ev.rkey)) std::abort();
    }
    return 0;
}
