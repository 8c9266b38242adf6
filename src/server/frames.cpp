#include "src/server/frames.hpp"

#include "src/atproto/cbor_writer.hpp"

namespace labeler::server {

namespace {
constexpr std::string_view labels_header = "\xa2\x61t\x67#labels\x62op\x01";
constexpr std::string_view error_header = "\xa1\x62op\x20";
}  // namespace

std::string encode_labels_frame(const storage::log_entry& e) {
    std::string out;
    out.reserve(labels_header.size() + 24 + e.cbor.size());
    out.append(labels_header);
    atproto::cbor::writer w(out);
    w.map(2);
    w.text("seq");
    w.uint(e.seq);
    w.text("labels");
    w.array(1);
    w.raw(e.cbor);
    return out;
}

frame_ptr make_labels_frame(const storage::log_entry& e) {
    return std::make_shared<const frame>(frame{e.seq, encode_labels_frame(e)});
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
