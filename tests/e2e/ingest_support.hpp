#pragma once
// Helpers shared by the ingestion e2e tests (ingest_*.cpp): profile tweaks for the [source]
// table, reading every label back through queryLabels and subscribeLabels, folding a label log
// into effective labels, reading /metrics, and polling the live binary with a deadline.
#include <fmt/format.h>

#include <chrono>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "tests/e2e/harness.hpp"

namespace labeler::e2e::ingest {

// Inserts `lines` at the top of the profile's [source] table (rewind, backoff, limits).
inline void patch_source(const std::filesystem::path& profile, const std::string& lines) {
    std::ifstream in(profile);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string t = ss.str();
    auto p = t.find("[source]\n");
    if (p == std::string::npos) throw std::runtime_error("no [source] table in profile");
    t.insert(p + 9, lines + "\n");
    std::ofstream(profile, std::ios::trunc) << t;
}

// Every label queryLabels returns for uriPatterns=*, page after page (ascending seq).
inline std::vector<atproto::label> query_all(std::uint16_t port) {
    std::vector<atproto::label> out;
    std::string cursor;
    for (int pages = 0; pages < 10'000; ++pages) {
        std::string target = "/xrpc/com.atproto.label.queryLabels?uriPatterns=*&limit=250";
        if (!cursor.empty()) target += "&cursor=" + cursor;
        auto r = http_get(port, target);
        if (r.status != 200) throw std::runtime_error("queryLabels: " + r.body);
        auto page = parse_query_page(r.body);
        for (auto& l : page.labels) out.push_back(std::move(l));
        if (!page.cursor || page.labels.empty()) break;
        cursor = *page.cursor;
    }
    return out;
}

// subject -> values it holds: the last entry per (subject, value) wins; negations remove.
using effective_map = std::map<std::string, std::set<std::string>>;
inline effective_map effective(const std::vector<atproto::label>& in_order) {
    std::map<std::pair<std::string, std::string>, bool> last;
    for (auto& l : in_order) last[{l.uri, l.val}] = !l.neg;
    effective_map out;
    for (auto& [k, held] : last)
        if (held) out[k.first].insert(k.second);
    return out;
}
inline std::set<std::string> holders(const effective_map& m) {
    std::set<std::string> out;
    for (auto& [uri, vals] : m)
        if (!vals.empty()) out.insert(uri);
    return out;
}

struct logged_label {
    std::uint64_t seq = 0;
    atproto::label label;
};
// The whole label log through subscribeLabels?cursor=0: reads until `last_seq` was seen, or
// until no frame came for `quiet`.
inline std::vector<logged_label> subscribe_all(std::uint16_t port, std::uint64_t last_seq = 0,
                                               std::chrono::milliseconds quiet = 1500ms) {
    ws_client ws;
    if (ws.connect(port, "/xrpc/com.atproto.label.subscribeLabels?cursor=0") != 101)
        throw std::runtime_error("subscribeLabels refused");
    std::vector<logged_label> out;
    for (;;) {
        auto f = ws.read_frame(quiet);
        if (!f) break;
        auto d = decode_frame(*f);
        if (!d) throw std::runtime_error("bad subscribeLabels frame: " + d.error().message);
        if (d->t != "#labels") continue;
        for (auto& l : d->labels) out.push_back({d->seq, l});
        if (last_seq && d->seq >= last_seq) break;
    }
    ws.close();
    return out;
}

// The sum of the samples of metric `name` whose label set contains `selector` (e.g.
// `reason="dropped"`; empty = all samples) in the binary's /metrics text.
inline double metric(std::uint16_t port, const std::string& name, const std::string& selector = {}) {
    auto r = http_get(port, "/metrics");
    double sum = 0;
    std::istringstream in(r.body);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        if (line.compare(0, name.size(), name) != 0) continue;
        char next = line.size() > name.size() ? line[name.size()] : '\0';
        if (next != '{' && next != ' ') continue;
        auto sp = line.rfind(' ');
        std::string labels = line.substr(name.size(), sp - name.size());
        if (!selector.empty() && labels.find(selector) == std::string::npos) continue;
        sum += std::stod(line.substr(sp + 1));
    }
    return sum;
}

// Polls `pred` every 50 ms until it holds or `timeout` passes (e2e only: the binary is another
// process, there is nothing to wait on).
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout = 30s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        try {
            if (pred()) return true;
        } catch (const std::exception&) {
        }
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(50ms);
    }
}

}  // namespace labeler::e2e::ingest
