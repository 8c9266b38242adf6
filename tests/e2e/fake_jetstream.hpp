#pragma once
// fake_jetstream: an in-process Jetstream (/subscribe) for tests and benches, plus builders for
// the event JSON it serves. Cursor semantics follow Jetstream: `cursor` is an inclusive time_us;
// without a cursor the whole script is served (the script stands for the live tail).
// See fake_stream_server for threading and options (drop_after, push, generator).
#include <cstdint>
#include <string>
#include <string_view>

#include "tests/e2e/fake_stream.hpp"

namespace labeler::testing {

class fake_jetstream : public fake_stream_server {
public:
    // `tls`: serve wss:// with this identity (see fake_ca.hpp).
    explicit fake_jetstream(std::vector<std::size_t> drop_after = {}, bool close_at_end = false,
                            std::optional<tls_identity> tls = std::nullopt)
        : fake_stream_server(options{cursor_mode::inclusive, "/subscribe", std::move(drop_after),
                                     close_at_end, std::move(tls)}) {}
};

// Jetstream v1 event JSON (models.go shapes).
namespace jetstream_json {
// A follow create of `subject` by `did` with record key `rkey`.
std::string follow(std::string_view did, std::uint64_t time_us, std::string_view rkey,
                   std::string_view subject);
// A follow delete (no record, no cid: the subject is not in the event).
std::string unfollow(std::string_view did, std::uint64_t time_us, std::string_view rkey);
// A commit in another collection (e.g. app.bsky.feed.like), which the labeler must ignore.
std::string other_commit(std::string_view did, std::uint64_t time_us, std::string_view collection,
                         std::string_view rkey);
// An #account event; `status` empty = omitted.
std::string account(std::string_view did, std::uint64_t time_us, bool active,
                    std::string_view status = {});
std::string identity(std::string_view did, std::uint64_t time_us, std::string_view handle);
}  // namespace jetstream_json

inline scripted_frame text_frame(std::uint64_t time_us, std::string json) {
    return scripted_frame{time_us, std::move(json), false};
}

}  // namespace labeler::testing
