#pragma once
// E2E harness: boots the real `random-labeler` binary and talks to it over real sockets.
//
// temp_dir (mkdtemp, removed in the destructor), key + profile writers, a data-folder seeder
// (labels signed and committed through storage::label_store, so serving tests need no
// pipeline), labeler_process (fork/exec with stderr captured on a reader thread), a small
// synchronous HTTP client, a WebSocket client with per-read timeouts and a subscribeLabels
// frame decoder. Every network call has a timeout; failures throw std::runtime_error with
// context (and the process log where relevant). Not thread-safe per object.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "src/atproto/label.hpp"
#include "src/common/result.hpp"

namespace labeler::e2e {

using namespace std::chrono_literals;

// A fresh directory under $TMPDIR (or /tmp), removed recursively on destruction.
class temp_dir {
public:
    temp_dir();
    ~temp_dir();
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

// Writes a new secp256k1 key to dir/"signing.key" (mode 0600); returns its did:key.
std::string write_key(const std::filesystem::path& dir);

struct profile_options {
    std::string environment = "e2e";
    std::string did = "did:plc:e2elabelerxxxxxxxxxxxxxx";
    std::string source_kind = "jetstream";  // jetstream | firehose | file
    // Default: a closed loopback port, so a network source just keeps reconnecting.
    std::vector<std::string> urls{"ws://127.0.0.1:9/subscribe"};
    std::filesystem::path file;               // source_kind = file
    std::string format = "jetstream";         // source_kind = file: jetstream | firehose
    std::vector<std::pair<std::string, unsigned>> values{{"daikichi", 1}, {"kichi", 2}, {"kyo", 1}};
    std::filesystem::path key_file;           // default dir/"signing.key"
    std::filesystem::path storage_path;       // default dir/"data"
    std::string listen = "127.0.0.1:0";
    std::string extra_server_toml;            // lines appended inside [server]
    std::string extra_toml;                   // appended at the end of the file (own tables)
};

// Writes dir/"profile.toml"; returns its path.
std::filesystem::path write_profile(const std::filesystem::path& dir, const profile_options& o);
// The data folder / key file a profile written with these options uses.
std::filesystem::path storage_path_of(const std::filesystem::path& dir, const profile_options& o);
std::filesystem::path key_path_of(const std::filesystem::path& dir, const profile_options& o);

// Builds `n` unsigned labels from `src`: subject i is did:plc:subj<i zero-padded>, values
// cycling daikichi/kichi/kyo, cts increasing by one millisecond.
std::vector<atproto::label> make_labels(std::size_t n, const std::string& src,
                                        std::size_t first_index = 0);

// Signs `labels` with the profile's key and commits them to the profile's data folder
// (creating it with the profile's stamp), in batches. Returns the stored labels (signed),
// with their sequence numbers (ascending). The folder must not be open elsewhere.
struct seeded_label {
    std::uint64_t seq = 0;
    atproto::label label;
    std::string cbor;
};
std::vector<seeded_label> seed_store(const std::filesystem::path& dir, const profile_options& o,
                                     std::vector<atproto::label> labels);

// The real binary, started as `random-labeler run --config PROFILE EXTRA...`.
class labeler_process {
public:
    // Starts the binary and waits until it logs `listening on HOST:PORT`. Throws (with the
    // captured log) if it exits first or the line does not come within `timeout`.
    static std::unique_ptr<labeler_process> start(const std::filesystem::path& profile,
                                                  std::vector<std::string> extra_args = {},
                                                  std::chrono::milliseconds timeout = 20s);
    ~labeler_process();  // kill() if still running

    std::uint16_t port() const { return port_; }
    int pid() const { return pid_; }
    // SIGTERM, then waits up to `timeout` (SIGKILL after it); returns the exit status
    // (WEXITSTATUS, or 128 + signal).
    int terminate(std::chrono::milliseconds timeout = 20s);
    void kill();                // SIGKILL and reap
    bool running();
    std::string log() const;    // stdout + stderr captured so far
    // True once `needle` appears in the log (waits up to `timeout`).
    bool wait_log(std::string_view needle, std::chrono::milliseconds timeout = 10s) const;

private:
    labeler_process() = default;
    int wait_exit(std::chrono::milliseconds timeout);
    int pid_ = -1;
    int exit_status_ = -1;
    std::uint16_t port_ = 0;
    std::thread reader_;
    mutable std::mutex mu_;
    mutable std::condition_variable cv_;
    std::string log_;
    bool eof_ = false;
};

// The real binary serving a temp data folder pre-seeded with `n` signed labels (seq 1..n).
// `extra_server_toml` goes into the profile's [server] table.
struct served {
    temp_dir dir;
    profile_options opts;
    std::string did_key;
    std::vector<seeded_label> seeded;
    std::unique_ptr<labeler_process> proc;

    explicit served(std::size_t n, std::string extra_server_toml = {}) {
        did_key = write_key(dir.path());
        opts.extra_server_toml = std::move(extra_server_toml);
        write_profile(dir.path(), opts);
        seeded = seed_store(dir.path(), opts, make_labels(n, opts.did));
        proc = labeler_process::start(dir.path() / "profile.toml");
    }
    std::uint16_t port() const { return proc->port(); }
};

struct http_response {
    unsigned status = 0;
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;
    std::string header(const std::string& lower_name) const {
        auto it = headers.find(lower_name);
        return it == headers.end() ? std::string{} : it->second;
    }
};

// One HTTP/1.1 request on a fresh connection to 127.0.0.1:port. Throws on network failure or
// timeout.
http_response http_request(std::uint16_t port, const std::string& method, const std::string& target,
                           const std::map<std::string, std::string>& headers = {},
                           const std::string& body = {}, std::chrono::milliseconds timeout = 10s);
inline http_response http_get(std::uint16_t port, const std::string& target,
                              const std::map<std::string, std::string>& headers = {}) {
    return http_request(port, "GET", target, headers);
}

// A WebSocket client (one connection). read_frame() keeps an unfinished read pending across
// calls, so a timeout never corrupts the stream.
class ws_client {
public:
    ws_client();
    ~ws_client();
    // Shrinks the socket's receive buffer before connecting (slow-consumer tests).
    void set_receive_buffer(int bytes) { rcvbuf_ = bytes; }
    // Connects and upgrades; returns 101 on success, else the HTTP status of the refusal
    // (body in rejected_body()). Throws on network failure.
    unsigned connect(std::uint16_t port, const std::string& target,
                     std::chrono::milliseconds timeout = 10s);
    // The next binary message, or nullopt on timeout or when the connection closed.
    std::optional<std::string> read_frame(std::chrono::milliseconds timeout = 10s);
    bool closed() const { return closed_; }
    int close_code() const { return close_code_; }          // -1 if no close frame received
    const std::string& close_reason() const { return close_reason_; }
    const std::string& rejected_body() const { return rejected_body_; }
    // Sends a close frame (1000) and waits for the server's (bounded).
    void close();
    // Sends a ping and waits for the pong (true when it came back in time).
    bool ping(std::chrono::milliseconds timeout = 5s);

private:
    struct impl;
    std::unique_ptr<impl> impl_;
    int rcvbuf_ = 0;
    bool closed_ = false;
    int close_code_ = -1;
    std::string close_reason_;
    std::string rejected_body_;
};

// One decoded subscribeLabels frame: header {op, t?} + body.
struct decoded_frame {
    std::int64_t op = 0;
    std::string t;                         // "#labels", "#info", or "" for errors
    std::uint64_t seq = 0;                 // #labels
    std::vector<atproto::label> labels;    // #labels (strictly decoded)
    std::vector<std::string> label_cbor;   // the raw CBOR of each label
    std::string error, message;            // op = -1
    std::string name;                      // #info
};
// Strictly decodes a frame: exactly two definite-length DAG-CBOR items, known shapes.
result<decoded_frame> decode_frame(std::string_view bytes);

// A parsed queryLabels response body: {"cursor"?, "labels": [...]} (labels from their JSON
// form, `sig` decoded from {"$bytes"}). Throws on a malformed body.
struct query_page {
    std::optional<std::string> cursor;
    std::vector<atproto::label> labels;
};
query_page parse_query_page(const std::string& body);
// The JSON value of `key` in a flat JSON object body ("" when absent or not a string).
std::string json_string_field(const std::string& body, const std::string& key);

// Verifies a label's signature against a did:key (k256/p256).
bool verify_label(const atproto::label& l, const std::string& did_key);

// Reads /proc to list the TCP ports on which process `pid` has LISTEN sockets.
std::vector<std::uint16_t> listening_ports(int pid);

// Directory of the repo's tests/interop npm project and whether its node_modules exist.
std::filesystem::path interop_dir();

}  // namespace labeler::e2e
