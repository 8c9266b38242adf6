// check_isolation: pairwise checks that environments cannot share state or a port.
#include <fmt/format.h>

#include <map>
#include <system_error>

#include "src/atproto/crypto.hpp"
#include "src/config/profile.hpp"
#include "src/config/validate.hpp"

namespace labeler::config {
namespace {

namespace fs = std::filesystem;

// Absolute, canonical form of a path that may not exist yet (symlinks in existing parents
// are resolved, "." and ".." removed).
fs::path canonical_form(const fs::path& p) {
    std::error_code ec;
    fs::path abs = fs::absolute(p, ec);
    if (ec) abs = p;
    fs::path canon = fs::weakly_canonical(abs, ec);
    if (ec) canon = abs.lexically_normal();
    // Drop a trailing separator so "data/x/" and "data/x" compare equal.
    if (!canon.has_filename() && canon.has_parent_path() && canon != canon.root_path())
        canon = canon.parent_path();
    return canon;
}

// True when `inner` is `outer` itself or lies below it.
bool is_within(const fs::path& inner, const fs::path& outer) {
    auto i = inner.begin();
    for (auto o = outer.begin(); o != outer.end(); ++o, ++i) {
        if (i == inner.end() || *i != *o) return false;
    }
    return true;
}

}  // namespace

isolation_report check_isolation(const std::vector<profile>& profiles) {
    isolation_report report;
    const std::size_t n = profiles.size();
    std::vector<fs::path> storage(n), keys(n);
    std::vector<std::optional<std::string>> key_did(n);
    for (std::size_t i = 0; i < n; ++i) {
        const auto& p = profiles[i];
        storage[i] = canonical_form(p.storage.path);
        keys[i] = canonical_form(p.signing_key_file);
        std::error_code ec;
        if (fs::exists(p.signing_key_file, ec)) {
            auto key = atproto::private_key::load_file(p.signing_key_file);
            if (key)
                key_did[i] = key->did_key();
            else
                report.problems.push_back(fmt::format("{}: labeler.signing_key_file: {}",
                                                      p.file.string(), key.error().message));
        }
    }
    for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t j = i + 1; j < n; ++j) {
            const auto& a = profiles[i];
            const auto& b = profiles[j];
            const std::string pair = fmt::format("{} and {}", a.file.string(), b.file.string());
            if (a.environment == b.environment)
                report.problems.push_back(
                    fmt::format("{}: both use environment \"{}\"", pair, a.environment));
            if (storage[i] == storage[j])
                report.problems.push_back(
                    fmt::format("{}: both use storage.path {}", pair, storage[i].string()));
            else if (is_within(storage[j], storage[i]))
                report.problems.push_back(fmt::format("{}: storage.path {} lies inside {}", pair,
                                                      storage[j].string(), storage[i].string()));
            else if (is_within(storage[i], storage[j]))
                report.problems.push_back(fmt::format("{}: storage.path {} lies inside {}", pair,
                                                      storage[i].string(), storage[j].string()));
            if (keys[i] == keys[j])
                report.problems.push_back(fmt::format("{}: both use labeler.signing_key_file {}",
                                                      pair, keys[i].string()));
            else if (key_did[i] && key_did[j] && *key_did[i] == *key_did[j])
                report.problems.push_back(fmt::format(
                    "{}: labeler.signing_key_file {} and {} hold the same key ({})", pair,
                    a.signing_key_file.string(), b.signing_key_file.string(), *key_did[i]));
            listen_address la{a.server.host, a.server.port}, lb{b.server.host, b.server.port};
            if (listen_collides(la, lb))
                report.problems.push_back(
                    fmt::format("{}: server.listen addresses collide ({}:{} and {}:{})", pair,
                                a.server.host, a.server.port, b.server.host, b.server.port));
            if (a.labeler_did == b.labeler_did)
                report.warnings.push_back(
                    fmt::format("{}: both use labeler.did {} (labels from both environments "
                                "would be attributed to one account)",
                                pair, a.labeler_did));
        }
    }
    return report;
}

}  // namespace labeler::config
