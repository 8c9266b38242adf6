#pragma once
// fake_relay: an in-process relay (com.atproto.sync.subscribeRepos) for tests, plus builders for
// firehose frames (DAG-CBOR header + body, written with cbor::writer) and a loader for the
// recorded PDS capture. Cursor semantics follow the relay: frames with seq > cursor; a cursor
// beyond the last seq gets a FutureCursor error frame and a close.
// See fake_stream_server for threading and options (drop_after, push).
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tests/e2e/fake_stream.hpp"

namespace labeler::testing {

class fake_relay : public fake_stream_server {
public:
    // `tls`: serve wss:// with this identity (see fake_ca.hpp).
    explicit fake_relay(std::vector<std::size_t> drop_after = {}, bool close_at_end = false,
                        std::optional<tls_identity> tls = std::nullopt)
        : fake_stream_server(options{cursor_mode::exclusive_or_future,
                                     "/xrpc/com.atproto.sync.subscribeRepos",
                                     std::move(drop_after), close_at_end, std::move(tls)}) {}
};

namespace firehose {

struct op {
    std::string action;                       // create | update | delete
    std::string collection;                   // e.g. app.bsky.graph.follow
    std::string rkey;
    std::optional<std::string> follow_subject;  // create/update of a follow: the subject DID
};

// Ways to damage a #commit (for malformed-input tests).
struct damage {
    bool bad_block_hash = false;   // a record block whose bytes do not match its CID
    bool missing_block = false;    // an op CID with no block in the CAR
    bool truncated_car = false;    // CAR cut in the middle of a section
};

// A #commit frame for `repo` with the given ops; follow records get real blocks and CIDs.
std::string commit(std::uint64_t seq, std::string_view repo, std::span<const op> ops,
                   damage d = {});
// An #account frame; `status` empty = omitted.
std::string account(std::uint64_t seq, std::string_view did, bool active,
                    std::string_view status = {});
std::string identity(std::uint64_t seq, std::string_view did, std::string_view handle);
// An #info frame (no seq), e.g. name "OutdatedCursor".
std::string info(std::string_view name, std::string_view message);
// An error frame ({op:-1} + {error, message}).
std::string error(std::string_view name, std::string_view message);
// A frame with an unknown type "#future" and a seq.
std::string unknown_type(std::uint64_t seq);

// The `seq` field of a frame's body, if it has one (best effort).
std::optional<std::uint64_t> seq_of(std::string_view frame);

// Loads a capture (4-byte big-endian length + message, repeated) as scripted binary frames
// keyed by seq. Empty on error.
std::vector<scripted_frame> load_capture(const std::filesystem::path& file);

}  // namespace firehose

inline scripted_frame binary_frame(std::uint64_t seq, std::string payload) {
    return scripted_frame{seq, std::move(payload), true};
}

}  // namespace labeler::testing
