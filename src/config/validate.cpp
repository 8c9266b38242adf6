#include "src/config/validate.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <iterator>

namespace labeler::config {
namespace {

bool is_lower(char c) {
    return c >= 'a' && c <= 'z';
}
bool is_upper(char c) {
    return c >= 'A' && c <= 'Z';
}
bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
bool is_alpha(char c) {
    return is_lower(c) || is_upper(c);
}
bool is_alnum(char c) {
    return is_alpha(c) || is_digit(c);
}

// Parses all of `s` as an unsigned decimal number (no sign, no spaces).
std::optional<std::uint64_t> parse_uint(std::string_view s) {
    if (s.empty() || s.size() > 18 || !std::all_of(s.begin(), s.end(), is_digit))
        return std::nullopt;
    std::uint64_t v = 0;
    std::from_chars(s.data(), s.data() + s.size(), v);
    return v;
}

// Two decimal digits -> value.
std::optional<int> two_digits(std::string_view s) {
    if (s.size() != 2 || !is_digit(s[0]) || !is_digit(s[1])) return std::nullopt;
    return (s[0] - '0') * 10 + (s[1] - '0');
}

std::optional<std::string> check_web_host(std::string_view host) {
    std::string_view name = host;
    if (auto pct = host.find("%3A"); pct != std::string_view::npos) {
        name = host.substr(0, pct);
        if (name != "localhost") return "did:web ports are only allowed for localhost";
        auto port = parse_uint(host.substr(pct + 3));
        if (!port || *port > 65535) return "did:web port must be a number 0..65535";
    }
    if (name == "localhost") return std::nullopt;
    if (name.empty() || name.size() > 253) return "did:web needs a host name";
    if (name.find('.') == std::string_view::npos) return "did:web host needs a domain with a dot";
    std::size_t start = 0;
    while (start <= name.size()) {
        auto dot = name.find('.', start);
        auto label = name.substr(start, dot == std::string_view::npos ? name.npos : dot - start);
        if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-' ||
            !std::all_of(label.begin(), label.end(),
                         [](char c) { return is_alnum(c) || c == '-'; }))
            return "did:web host name is not a valid domain name";
        if (dot == std::string_view::npos) break;
        start = dot + 1;
    }
    return std::nullopt;
}

}  // namespace

std::optional<std::string> check_environment(std::string_view env) {
    if (env.empty()) return "must not be empty";
    if (env.size() > 64) return "is longer than 64 characters";
    if (!std::all_of(env.begin(), env.end(),
                     [](char c) { return is_lower(c) || is_digit(c) || c == '-'; }))
        return "must match ^[a-z0-9-]+$";
    return std::nullopt;
}

std::optional<std::string> check_labeler_did(std::string_view did) {
    // Generic atproto DID syntax: did:<method>:<id>, method [a-z]+, id [A-Za-z0-9._:%-],
    // not ending in ':' or '%', at most 2048 characters.
    if (did.size() > 2048) return "longer than 2048 characters";
    if (did.substr(0, 4) != "did:") return "must start with \"did:\"";
    auto rest = did.substr(4);
    auto colon = rest.find(':');
    if (colon == std::string_view::npos || colon == 0) return "needs did:METHOD:IDENTIFIER";
    auto method = rest.substr(0, colon);
    auto id = rest.substr(colon + 1);
    if (!std::all_of(method.begin(), method.end(), is_lower))
        return "method must be lower-case a-z";
    if (id.empty()) return "identifier is empty";
    if (!std::all_of(id.begin(), id.end(), [](char c) {
            return is_alnum(c) || c == '.' || c == '_' || c == ':' || c == '%' || c == '-';
        }))
        return "identifier has characters outside [A-Za-z0-9._:%-]";
    if (id.back() == ':' || id.back() == '%') return "must not end with ':' or '%'";
    if (method == "plc") {
        if (id.size() != 24 || !std::all_of(id.begin(), id.end(), [](char c) {
                return is_lower(c) || (c >= '2' && c <= '7');
            }))
            return "a did:plc identifier is 24 characters of [a-z2-7]";
        return std::nullopt;
    }
    if (method == "web") return check_web_host(id);
    return fmt::format("method \"{}\" is not supported by atproto (use did:plc or did:web)",
                       method);
}

std::optional<std::string> check_label_id(std::string_view id) {
    if (id.empty()) return "must not be empty";
    if (id.size() > 100) return "is longer than 100 bytes";
    if (!std::all_of(id.begin(), id.end(), [](char c) { return is_lower(c) || c == '-'; }))
        return "must match ^[a-z-]+$ (custom label values with digits, upper case or '_' are "
               "invisible in the Bluesky app)";
    if (id.front() == '-' || id.back() == '-') return "must not start or end with '-'";
    return std::nullopt;
}

std::optional<std::string> check_lang(std::string_view lang) {
    // BCP-47 shape: primary subtag of 2-3 letters (or "i"/"x"), then 1-8 alphanumeric subtags.
    if (lang.empty()) return "must not be empty";
    if (lang.size() > 64) return "is not a language tag (too long)";
    std::size_t start = 0;
    bool first = true;
    while (true) {
        auto dash = lang.find('-', start);
        auto sub = lang.substr(start, dash == std::string_view::npos ? lang.npos : dash - start);
        bool ok = first ? ((sub.size() >= 2 && sub.size() <= 3 &&
                            std::all_of(sub.begin(), sub.end(), is_alpha)) ||
                           sub == "i" || sub == "x")
                        : (!sub.empty() && sub.size() <= 8 &&
                           std::all_of(sub.begin(), sub.end(), is_alnum));
        if (!ok) return "is not a language tag such as \"ja\", \"en\" or \"pt-BR\"";
        if (dash == std::string_view::npos) break;
        start = dash + 1;
        first = false;
    }
    return std::nullopt;
}

std::optional<std::string> check_text(std::string_view text, std::size_t max_chars,
                                      std::size_t max_bytes) {
    bool blank = std::all_of(text.begin(), text.end(), [](char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r';
    });
    if (blank) return "must not be empty";
    std::size_t chars = std::count_if(text.begin(), text.end(), [](char c) {
        return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    });
    if (chars > max_chars)
        return fmt::format("is {} characters long; at most {} are allowed", chars, max_chars);
    if (text.size() > max_bytes)
        return fmt::format("is {} bytes long; at most {} are allowed", text.size(), max_bytes);
    return std::nullopt;
}

std::optional<std::string> check_ca_file(const std::filesystem::path& file) {
    namespace fs = std::filesystem;
    std::error_code ec;
    auto st = fs::status(file, ec);
    if (st.type() == fs::file_type::not_found) return "does not exist";
    if (ec) return fmt::format("cannot be examined ({})", ec.message());
    if (!fs::is_regular_file(st)) return "is not a regular file";
    std::ifstream in(file, std::ios::binary);
    if (!in) return "cannot be read (permission denied?)";
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (text.find("-----BEGIN CERTIFICATE-----") == std::string::npos)
        return "holds no PEM certificate (-----BEGIN CERTIFICATE-----)";
    return std::nullopt;
}

std::optional<std::string> check_ws_url(std::string_view url) {
    std::string_view rest;
    if (url.substr(0, 5) == "ws://")
        rest = url.substr(5);
    else if (url.substr(0, 6) == "wss://")
        rest = url.substr(6);
    else
        return "must start with ws:// or wss://";
    if (std::any_of(url.begin(), url.end(),
                    [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; }))
        return "must not contain spaces or control characters";
    if (url.find('#') != std::string_view::npos) return "must not have a #fragment";
    auto end = rest.find_first_of("/?");
    auto authority = rest.substr(0, end);
    if (authority.find('@') != std::string_view::npos) return "must not carry user credentials";
    std::string_view host = authority;
    if (!authority.empty() && authority.front() == '[') {
        auto close = authority.find(']');
        if (close == std::string_view::npos) return "has an unterminated [IPv6] host";
        host = authority.substr(0, close + 1);
        auto after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') return "has junk after the [IPv6] host";
            auto port = parse_uint(after.substr(1));
            if (!port || *port == 0 || *port > 65535) return "has a bad port";
        }
    } else if (auto colon = authority.rfind(':'); colon != std::string_view::npos) {
        host = authority.substr(0, colon);
        auto port = parse_uint(authority.substr(colon + 1));
        if (!port || *port == 0 || *port > 65535) return "has a bad port";
    }
    if (host.empty()) return "has no host";
    return std::nullopt;
}

result<listen_address> parse_listen(std::string_view text) {
    auto bad = [&](std::string_view why) { return error(fmt::format("\"{}\" {}", text, why)); };
    std::string_view host, port;
    listen_address out;
    if (!text.empty() && text.front() == '[') {
        auto close = text.find(']');
        if (close == std::string_view::npos) return bad("has an unterminated [IPv6] address");
        host = text.substr(1, close - 1);
        auto after = text.substr(close + 1);
        if (after.empty() || after.front() != ':') return bad("needs HOST:PORT");
        port = after.substr(1);
        in6_addr a6{};
        std::string h(host);
        if (inet_pton(AF_INET6, h.c_str(), &a6) != 1)
            return bad("has a host that is not an IPv6 address");
        out.host = h;
    } else {
        auto colon = text.rfind(':');
        if (colon == std::string_view::npos) return bad("needs HOST:PORT");
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
        if (host.find(':') != std::string_view::npos)
            return bad("needs brackets around an IPv6 address, e.g. \"[::1]:8080\"");
        if (host == "localhost") {
            out.host = "127.0.0.1";
        } else {
            in_addr a4{};
            std::string h(host);
            if (host.empty() || inet_pton(AF_INET, h.c_str(), &a4) != 1)
                return bad("needs an IPv4 address, [IPv6] address or localhost as HOST");
            out.host = h;
        }
    }
    auto p = parse_uint(port);
    if (!p) return bad("needs a numeric PORT after the ':'");
    if (*p > 65535) return bad("has a port above 65535");
    out.port = static_cast<std::uint16_t>(*p);
    return out;
}

bool listen_collides(const listen_address& a, const listen_address& b) {
    if (a.port == 0 || b.port == 0 || a.port != b.port) return false;
    auto wildcard = [](const std::string& h) { return h == "0.0.0.0" || h == "::"; };
    return a.host == b.host || wildcard(a.host) || wildcard(b.host);
}

std::optional<std::chrono::minutes> parse_daily_at(std::string_view text) {
    if (text.size() != 5 || text[2] != ':') return std::nullopt;
    auto h = two_digits(text.substr(0, 2)), m = two_digits(text.substr(3, 2));
    if (!h || !m || *h > 23 || *m > 59) return std::nullopt;
    return std::chrono::minutes(*h * 60 + *m);
}

std::optional<std::chrono::seconds> parse_every(std::string_view text) {
    if (text.size() < 2) return std::nullopt;
    char unit = text.back();
    auto n = parse_uint(text.substr(0, text.size() - 1));
    if (!n || *n == 0 || text.front() == '0') return std::nullopt;
    std::uint64_t mult = unit == 'h' ? 3600 : unit == 'm' ? 60 : unit == 's' ? 1 : 0;
    if (mult == 0 || *n > 366ULL * 86400 / mult) return std::nullopt;
    return std::chrono::seconds(static_cast<std::int64_t>(*n * mult));
}

std::optional<std::chrono::minutes> parse_utc_offset(std::string_view text) {
    if (text.size() != 6 || (text[0] != '+' && text[0] != '-') || text[3] != ':')
        return std::nullopt;
    auto h = two_digits(text.substr(1, 2)), m = two_digits(text.substr(4, 2));
    if (!h || !m || *m > 59 || *h * 60 + *m > 14 * 60) return std::nullopt;
    int total = *h * 60 + *m;
    return std::chrono::minutes(text[0] == '-' ? -total : total);
}

}  // namespace labeler::config
