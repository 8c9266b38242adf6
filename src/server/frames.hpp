#pragma once
// subscribeLabels frames: one binary WebSocket message = DAG-CBOR header + body (protocol §5).
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "storage/types.hpp"

namespace labeler::server {

// A run of consecutive labels frames, encoded once into one contiguous buffer of complete
// WebSocket frames and shared, immutable, by every live subscriber: a subscriber writes it
// straight from this buffer (no copy), skipping a prefix it has already sent.
struct wire_batch {
    std::string wire;                  // the frames, back to back
    std::vector<std::uint64_t> seqs;   // seq of each frame, strictly increasing
    std::vector<std::size_t> offsets;  // where each frame starts in `wire`
    std::size_t size() const { return seqs.size(); }
};
using frame_batch = std::shared_ptr<const wire_batch>;

// {op:1,t:"#labels"} + {seq, labels:[<stored label CBOR verbatim>]}: the message payload.
std::string encode_labels_frame(const storage::log_entry& e);
// Appends the whole WebSocket frame (header + the payload above) to `out`.
void append_labels_wire(std::string& out, const storage::log_entry& e);
// One wire_batch for entries in seq order (null entries are skipped).
frame_batch make_wire_batch(const std::vector<storage::shared_entry>& entries);
// {op:-1} + {error, message}
std::string encode_error_frame(std::string_view error, std::string_view message);

}  // namespace labeler::server
