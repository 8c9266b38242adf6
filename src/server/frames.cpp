#include "src/server/frames.hpp"

#include "src/atproto/cbor_writer.hpp"
#include "src/server/wsproto.hpp"

namespace labeler::server {

namespace {
constexpr std::string_view labels_header = "\xa2\x61t\x67#labels\x62op\x01";
constexpr std::string_view error_header = "\xa1\x62op\x20";
}  // namespace

namespace {
// The body {seq, labels:[cbor]} is written in canonical key order ("seq" < "labels" by
// length first); its size is known up front so the WebSocket header can precede it.
std::size_t uint_head_size(std::uint64_t v) {
    return v < 24 ? 1 : v <= 0xFF ? 2 : v <= 0xFFFF ? 3 : v <= 0xFFFFFFFF ? 5 : 9;
}
// map(2) + text "seq" + text "labels" + array(1): 1 + 4 + 7 + 1 bytes
constexpr std::size_t body_fixed_size = 13;

// Appends the payload; exactly labels_payload_size(e) bytes.
void append_labels_payload(std::string& out, const storage::log_entry& e) {
    out.append(labels_header);
    atproto::cbor::writer w(out);
    w.map(2);
    w.text("seq");
    w.uint(e.seq);
    w.text("labels");
    w.array(1);
    w.raw(e.cbor);
}

std::size_t labels_payload_size(const storage::log_entry& e) {
    return labels_header.size() + body_fixed_size + uint_head_size(e.seq) + e.cbor.size();
}

}  // namespace

std::string encode_labels_frame(const storage::log_entry& e) {
    std::string out;
    out.reserve(labels_payload_size(e));
    append_labels_payload(out, e);
    return out;
}

void append_labels_wire(std::string& out, const storage::log_entry& e) {
    ws::append_header(out, ws::opcode::binary, labels_payload_size(e));
    append_labels_payload(out, e);
}

frame_batch make_wire_batch(const std::vector<storage::shared_entry>& entries) {
    auto b = std::make_shared<wire_batch>();
    std::size_t bytes = 0;
    for (auto& e : entries)
        if (e) bytes += labels_payload_size(*e) + 4;  // + the WebSocket header (2 or 4 bytes)
    b->wire.reserve(bytes);
    b->seqs.reserve(entries.size());
    b->offsets.reserve(entries.size());
    for (auto& e : entries) {
        if (!e) continue;
        b->offsets.push_back(b->wire.size());
        b->seqs.push_back(e->seq);
        append_labels_wire(b->wire, *e);
    }
    return b;
}

std::string encode_error_frame(std::string_view error, std::string_view message) {
    std::string out(error_header);
    atproto::cbor::writer w(out);
    w.map(message.empty() ? 1 : 2);
    w.text("error");
    w.text(error);
    if (!message.empty()) {
        w.text("message");
        w.text(message);
    }
    return out;
}

}  // namespace labeler::server
