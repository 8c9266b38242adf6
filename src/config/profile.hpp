#pragma once
// profile: one environment's complete, validated configuration (one TOML file).
// Built only by load_profile(), which checks every key; everything downstream can trust it.
// Key names are the operator contract in docs/interface.md.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "src/common/result.hpp"

namespace labeler::config {

struct locale {
    std::string lang;         // BCP-47 tag, e.g. "ja"
    std::string name;         // <= 64 graphemes
    std::string description;  // <= 10000 graphemes
};

struct label_value {
    std::string id;                        // ^[a-z-]+$ (app-visible custom value), <= 100 bytes
    std::uint32_t weight = 1;              // relative draw weight, >= 1
    std::vector<locale> locales;           // at least one
    std::string severity = "inform";       // inform | alert | none
    std::string blurs = "none";            // content | media | none
    std::string default_setting = "warn";  // ignore | warn | hide
    bool adult_only = false;
};

struct server_config {
    std::string host = "127.0.0.1";                  // from `listen`
    std::uint16_t port = 8080;                       // 0 = any free port
    unsigned threads = 1;                            // network I/O threads
    std::size_t max_header_bytes = 8 * 1024;
    std::size_t max_body_bytes = 64 * 1024;
    std::chrono::milliseconds read_timeout{10'000};  // request head/body must arrive within this
    std::chrono::milliseconds idle_timeout{60'000};  // keep-alive idle connections are closed
    std::size_t subscriber_queue_frames = 10'000;    // per-subscriber backlog before ConsumerTooSlow
    std::chrono::milliseconds ws_ping_interval{30'000};
    std::size_t max_connections = 10'000;            // open TCP connections (HTTP + WebSocket)
    std::size_t label_json_cache = 65'536;           // rendered labels kept for queryLabels; 0 = off
    std::size_t query_cache = 256;                   // queryLabels response bodies kept; 0 = off
};

struct storage_config {
    std::filesystem::path path;                      // data folder (RocksDB)
    enum class sync_mode { batch, interval } sync = sync_mode::batch;
    std::chrono::milliseconds sync_interval{100};
};

struct source_config {
    enum class kind_t { jetstream, firehose, file } kind = kind_t::jetstream;
    std::vector<std::string> urls;                   // ws:// or wss:// (jetstream, firehose)
    std::filesystem::path file;                      // kind = file: the capture to replay
    enum class file_format { jetstream, firehose } format = file_format::jetstream;
    bool pace_recorded = false;                      // kind = file: replay at the recorded pace
    std::optional<std::uint64_t> cursor;             // explicit start cursor (overrides stored)
    std::chrono::seconds rewind{5};                  // jetstream reconnect rewind
    std::optional<std::filesystem::path> zstd_dictionary;  // jetstream compressed frames
    std::optional<std::filesystem::path> ca_file;    // extra trusted CAs (PEM) for wss://
    std::size_t max_event_bytes = 2 * 1024 * 1024;   // larger events are dropped and counted
    std::chrono::milliseconds backoff_initial{500};
    std::chrono::milliseconds backoff_max{30'000};
};

struct pipeline_config {
    std::size_t queue_capacity = 4096;               // events between stages
    std::size_t batch_max = 1024;                    // events per WriteBatch
};

struct reroll_config {
    enum class mode_t { none, daily, every } mode = mode_t::none;
    std::chrono::minutes daily_at{0};                // minutes after local midnight
    std::chrono::minutes utc_offset{0};
    std::chrono::seconds every{0};
};

struct profile {
    std::filesystem::path file;                      // where it was loaded from
    std::string environment;                         // ^[a-z0-9-]+$
    std::string labeler_did;
    std::filesystem::path signing_key_file;          // relative paths: against the working directory
    server_config server;
    storage_config storage;                          // relative paths: against the working directory
    source_config source;
    pipeline_config pipeline;
    std::vector<label_value> values;                 // at least one, unique ids
    reroll_config reroll;
    std::optional<std::filesystem::path> admin_token_file;
    std::string log_level = "info";
};

// Error codes carried by labeler::error from this module.
enum class errc { io = 1, syntax = 2, invalid = 3 };

// Loads and completely validates a profile. Any problem (unknown key, missing key, bad DID,
// bad listen address, bad label value, wrong type, a source.ca_file that cannot be read or
// holds no PEM certificate) yields an error naming the file, the key
// and the problem, e.g. "config/prod.toml: labeler.did: 'did:foo' is not a valid DID".
// All problems are collected and reported together, one per line (error.message joins them
// with '\n'); error.code is an errc. Paths are kept as written (relative ones are resolved
// against the working directory when used). A `listen` host of "localhost" is stored as
// "127.0.0.1"; an IPv6 host is stored without its brackets, so `host` is always an IP literal.
result<profile> load_profile(const std::filesystem::path& file);

// Same checks as load_profile on TOML text; `file` only names the source in messages and is
// stored in profile::file.
result<profile> parse_profile(std::string_view toml_text, const std::filesystem::path& file);

// Outcome of check_isolation: problems make `config check` fail, warnings do not.
struct isolation_report {
    std::vector<std::string> problems;
    std::vector<std::string> warnings;
    bool ok() const { return problems.empty(); }
};

// Checks that validated profiles can run side by side without touching each other's state:
// distinct environment names; storage paths neither equal nor nested (compared as absolute,
// canonical paths); distinct signing key files and, when the files exist, distinct keys
// (did:key); listen addresses that do not collide (same non-zero port on the same host or a
// wildcard host). A shared labeler DID is a warning. A key file that exists but cannot be
// loaded is a problem. Each line names the profile files involved.
isolation_report check_isolation(const std::vector<profile>& profiles);

}  // namespace labeler::config
