#include "src/atproto/syntax.hpp"

#include "src/atproto/cid.hpp"

namespace labeler::atproto {
namespace {

constexpr bool is_lower(char c) {
    return c >= 'a' && c <= 'z';
}
constexpr bool is_alpha(char c) {
    return is_lower(c) || (c >= 'A' && c <= 'Z');
}
constexpr bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
constexpr bool is_alnum(char c) {
    return is_alpha(c) || is_digit(c);
}

// One DNS-style label: 1..63 of [A-Za-z0-9-], not starting or ending with '-'.
bool is_dns_label(std::string_view s) {
    if (s.empty() || s.size() > 63 || s.front() == '-' || s.back() == '-') return false;
    for (char c : s)
        if (!is_alnum(c) && c != '-') return false;
    return true;
}

}  // namespace

bool is_valid_did(std::string_view s) {
    if (s.size() > 2048 || !s.starts_with("did:")) return false;
    s.remove_prefix(4);
    std::size_t i = 0;
    while (i < s.size() && is_lower(s[i])) ++i;
    if (i == 0 || i >= s.size() || s[i] != ':') return false;
    std::string_view id = s.substr(i + 1);
    if (id.empty() || id.back() == ':' || id.back() == '%') return false;
    for (char c : id)
        if (!is_alnum(c) && c != '.' && c != '_' && c != ':' && c != '%' && c != '-') return false;
    return true;
}

bool is_valid_handle(std::string_view s) {
    if (s.empty() || s.size() > 253) return false;
    std::size_t labels = 0;
    std::string_view last;
    while (true) {
        std::size_t dot = s.find('.');
        std::string_view part = s.substr(0, dot);
        if (!is_dns_label(part)) return false;
        ++labels;
        last = part;
        if (dot == std::string_view::npos) break;
        s.remove_prefix(dot + 1);
    }
    return labels >= 2 && is_alpha(last.front());
}

bool is_valid_nsid(std::string_view s) {
    if (s.size() > 253 + 1 + 63) return false;
    std::size_t last_dot = s.rfind('.');
    if (last_dot == std::string_view::npos) return false;
    std::string_view domain = s.substr(0, last_dot);
    std::string_view name = s.substr(last_dot + 1);
    if (name.empty() || name.size() > 63 || !is_alpha(name.front())) return false;
    for (char c : name)
        if (!is_alnum(c)) return false;
    std::size_t segments = 0;
    while (true) {
        std::size_t dot = domain.find('.');
        std::string_view part = domain.substr(0, dot);
        if (!is_dns_label(part)) return false;
        if (segments == 0 && !is_alpha(part.front())) return false;
        ++segments;
        if (dot == std::string_view::npos) break;
        domain.remove_prefix(dot + 1);
    }
    return segments >= 2;
}

bool is_valid_record_key(std::string_view s) {
    if (s.empty() || s.size() > 512 || s == "." || s == "..") return false;
    for (char c : s)
        if (!is_alnum(c) && c != '.' && c != '_' && c != ':' && c != '~' && c != '-') return false;
    return true;
}

bool is_valid_tid(std::string_view s) {
    if (s.size() != 13) return false;
    auto b32 = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '2' && c <= '7'); };
    if (!((s[0] >= '2' && s[0] <= '7') || (s[0] >= 'a' && s[0] <= 'j'))) return false;
    for (char c : s)
        if (!b32(c)) return false;
    return true;
}

bool is_valid_at_uri(std::string_view s) {
    if (s.size() > 8192 || !s.starts_with("at://")) return false;
    s.remove_prefix(5);
    std::size_t slash = s.find('/');
    std::string_view authority = s.substr(0, slash);
    if (!is_valid_did(authority) && !is_valid_handle(authority)) return false;
    if (slash == std::string_view::npos) return true;
    s.remove_prefix(slash + 1);
    slash = s.find('/');
    if (!is_valid_nsid(s.substr(0, slash))) return false;
    if (slash == std::string_view::npos) return true;
    return is_valid_record_key(s.substr(slash + 1));
}

bool is_valid_cid(std::string_view s) {
    if (s.size() < 8 || s.size() > 256 || s.starts_with("Qm")) return false;
    for (char c : s)
        if (!is_alnum(c) && c != '+' && c != '=') return false;
    if (s.front() != 'b') return true;  // other multibases: syntax only, as the lexicon does
    return cid::parse(s).has_value();
}

bool is_valid_label_value(std::string_view s) {
    if (s.empty() || s.size() > 128 || s.front() == '-' || s.back() == '-') return false;
    for (char c : s)
        if (!is_lower(c) && c != '-') return false;
    return true;
}

}  // namespace labeler::atproto
