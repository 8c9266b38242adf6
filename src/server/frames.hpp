#pragma once
// subscribeLabels frames: one binary WebSocket message = DAG-CBOR header + body (protocol §5).
// A frame is encoded once and shared, immutable, by every subscriber queue.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "storage/types.hpp"

namespace labeler::server {

struct frame {
    std::uint64_t seq = 0;   // 0 for error frames
    std::string bytes;
};
using frame_ptr = std::shared_ptr<const frame>;
using frame_batch = std::shared_ptr<const std::vector<frame_ptr>>;

// {op:1,t:"#labels"} + {seq, labels:[<stored label CBOR verbatim>]}
std::string encode_labels_frame(const storage::log_entry& e);
frame_ptr make_labels_frame(const storage::log_entry& e);
// {op:-1} + {error, message}
std::string encode_error_frame(std::string_view error, std::string_view message);

}  // namespace labeler::server
