#pragma once
// Syntax checks for single profile values, shared by the profile loader and the CLI.
// Each check_* returns nullopt when the value is fine, else the problem as a phrase that
// follows the quoted value ("must match ^[a-z-]+$ ..."). Pure functions, any thread, except
// check_ca_file, which reads the file.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "src/common/result.hpp"

namespace labeler::config {

// environment: ^[a-z0-9-]+$, at most 64 characters.
std::optional<std::string> check_environment(std::string_view env);
// A labeler account DID: generic DID syntax, and did:plc (24 chars of [a-z2-7]) or did:web.
std::optional<std::string> check_labeler_did(std::string_view did);
// A custom label value the Bluesky app will display: ^[a-z-]+$, no leading/trailing '-', <= 100
// bytes.
std::optional<std::string> check_label_id(std::string_view id);
// A BCP-47-shaped language tag ("ja", "en", "pt-BR").
std::optional<std::string> check_lang(std::string_view lang);
// Non-empty text of at most max_chars code points (a stand-in for graphemes) and max_bytes bytes.
std::optional<std::string> check_text(std::string_view text, std::size_t max_chars,
                                      std::size_t max_bytes);
// A ws:// or wss:// URL with a host, no whitespace, no fragment.
std::optional<std::string> check_ws_url(std::string_view url);
// A CA bundle: an existing, readable regular file holding at least one PEM certificate
// (relative paths against the working directory). The certificates themselves are parsed
// when the source loads them.
std::optional<std::string> check_ca_file(const std::filesystem::path& file);

struct listen_address {
    std::string host;  // IP literal; IPv6 without brackets; "localhost" becomes "127.0.0.1"
    std::uint16_t port = 0;
};
// "IPv4:port", "[IPv6]:port" or "localhost:port", port 0..65535. The error message is the
// problem phrase, e.g. "\"1.2.3.4\" needs HOST:PORT".
result<listen_address> parse_listen(std::string_view text);
// True when two listen addresses would collide (same non-zero port, same or wildcard host).
bool listen_collides(const listen_address& a, const listen_address& b);

// "HH:MM" -> minutes after midnight.
std::optional<std::chrono::minutes> parse_daily_at(std::string_view text);
// "<n>h" | "<n>m" | "<n>s", n >= 1, at most 366 days.
std::optional<std::chrono::seconds> parse_every(std::string_view text);
// "+HH:MM" | "-HH:MM", at most 14:00 either way -> signed minutes.
std::optional<std::chrono::minutes> parse_utc_offset(std::string_view text);

}  // namespace labeler::config
