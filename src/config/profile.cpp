// load_profile / parse_profile: TOML (toml++) -> validated config::profile.
//
// The whole document is walked once; every problem is collected (never the first one only)
// as "FILE: key.path: problem" and returned together. Every table tracks the keys it read so
// that anything left over is reported as an unknown key. No exception escapes: toml++ parse
// errors are caught and turned into "FILE:LINE:COLUMN: TOML syntax error: ...".
#include "src/config/profile.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include "src/config/validate.hpp"

namespace labeler::config {
namespace {

const char* type_name(toml::node_type t) {
    switch (t) {
        case toml::node_type::string:
            return "a string";
        case toml::node_type::integer:
            return "an integer";
        case toml::node_type::floating_point:
            return "a floating-point number";
        case toml::node_type::boolean:
            return "a boolean";
        case toml::node_type::date:
            return "a date";
        case toml::node_type::time:
            return "a time";
        case toml::node_type::date_time:
            return "a date-time";
        case toml::node_type::array:
            return "an array";
        case toml::node_type::table:
            return "a table";
        default:
            return "nothing";
    }
}

std::string quote_value(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        if (static_cast<unsigned char>(c) < 0x20) {
            out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
            continue;
        }
        out += c;
    }
    out += '"';
    return out;
}

// Collects problems for one file.
class problems {
public:
    explicit problems(std::string file) : file_(std::move(file)) {}
    void add(std::string_view key, std::string_view what) {
        list_.push_back(fmt::format("{}: {}: {}", file_, key, what));
    }
    void add_plain(std::string_view what) { list_.push_back(fmt::format("{}: {}", file_, what)); }
    bool empty() const { return list_.empty(); }
    std::string joined() const {
        std::string out;
        for (auto& p : list_) {
            if (!out.empty()) out += '\n';
            out += p;
        }
        return out;
    }

private:
    std::string file_;
    std::vector<std::string> list_;
};

// One TOML table being read: typed getters that record problems, and unknown-key detection.
class table_reader {
public:
    // `prefix` is the key path of the table ("" at top level, "server", "labels.values[2]");
    // `where` names it in unknown-key messages ("at top level", "in [server]").
    table_reader(problems& p, const toml::table& t, std::string prefix, std::string where)
        : p_(p), t_(t), prefix_(std::move(prefix)), where_(std::move(where)) {}

    std::string path(std::string_view key) const {
        return prefix_.empty() ? std::string(key) : prefix_ + "." + std::string(key);
    }

    // The node at `key` (marks it read); nullptr and "missing" when required and absent.
    const toml::node* node(std::string_view key, bool required) {
        seen_.insert(std::string(key));
        const toml::node* n = t_.get(key);
        if (!n && required) p_.add(path(key), "missing");
        return n;
    }

    bool has(std::string_view key) const { return t_.get(key) != nullptr; }

    bool expect(const toml::node* n, std::string_view key, toml::node_type want) {
        if (n->type() == want) return true;
        p_.add(path(key),
               fmt::format("expected {}, got {}", type_name(want), type_name(n->type())));
        return false;
    }

    std::optional<std::string> str(std::string_view key, bool required = false) {
        auto* n = node(key, required);
        if (!n || !expect(n, key, toml::node_type::string)) return std::nullopt;
        return n->as_string()->get();
    }

    std::optional<std::int64_t> integer(std::string_view key, std::int64_t min, std::int64_t max,
                                        bool required = false) {
        auto* n = node(key, required);
        if (!n || !expect(n, key, toml::node_type::integer)) return std::nullopt;
        std::int64_t v = n->as_integer()->get();
        if (v < min || v > max) {
            if (max == std::numeric_limits<std::int64_t>::max())
                p_.add(path(key), fmt::format("must be at least {}, got {}", min, v));
            else
                p_.add(path(key), fmt::format("must be between {} and {}, got {}", min, max, v));
            return std::nullopt;
        }
        return v;
    }

    std::optional<bool> boolean(std::string_view key) {
        auto* n = node(key, false);
        if (!n || !expect(n, key, toml::node_type::boolean)) return std::nullopt;
        return n->as_boolean()->get();
    }

    const toml::table* table(std::string_view key, bool required = false) {
        auto* n = node(key, required);
        if (!n || !expect(n, key, toml::node_type::table)) return nullptr;
        return n->as_table();
    }

    const toml::array* array(std::string_view key, bool required = false) {
        auto* n = node(key, required);
        if (!n || !expect(n, key, toml::node_type::array)) return nullptr;
        return n->as_array();
    }

    // One of `choices`; reports "must be one of ..." otherwise.
    std::optional<std::string> choice(std::string_view key,
                                      std::initializer_list<std::string_view> choices,
                                      bool required = false) {
        auto v = str(key, required);
        if (!v) return std::nullopt;
        for (auto c : choices)
            if (*v == c) return v;
        std::string list;
        for (auto c : choices) list += (list.empty() ? "" : ", ") + quote_value(c);
        p_.add(path(key), fmt::format("{} must be one of {}", quote_value(*v), list));
        return std::nullopt;
    }

    // Reports every key of the table that no getter asked for.
    void finish() {
        for (auto& [k, v] : t_) {
            if (!seen_.count(std::string(k.str())))
                p_.add_plain(fmt::format("unknown key {} {}", quote_value(k.str()), where_));
        }
    }

    problems& report() { return p_; }

private:
    problems& p_;
    const toml::table& t_;
    std::string prefix_;
    std::string where_;
    std::set<std::string> seen_;
};

constexpr std::int64_t kMaxI64 = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kDay_ms = 24LL * 3600 * 1000;

void read_labeler(table_reader& top, profile& out) {
    auto* t = top.table("labeler", true);
    if (!t) return;
    table_reader r(top.report(), *t, "labeler", "in [labeler]");
    if (auto did = r.str("did", true)) {
        if (auto why = check_labeler_did(*did))
            r.report().add("labeler.did",
                           fmt::format("{} is not a valid DID ({})", quote_value(*did), *why));
        else
            out.labeler_did = *did;
    }
    if (auto f = r.str("signing_key_file", true)) {
        if (f->empty())
            r.report().add("labeler.signing_key_file", "must not be empty");
        else
            out.signing_key_file = *f;
    }
    r.finish();
}

void read_server(table_reader& top, profile& out) {
    auto* t = top.table("server", true);
    if (!t) return;
    table_reader r(top.report(), *t, "server", "in [server]");
    auto& s = out.server;
    if (auto listen = r.str("listen", true)) {
        auto parsed = parse_listen(*listen);
        if (!parsed)
            r.report().add("server.listen", parsed.error().message);
        else {
            s.host = parsed->host;
            s.port = parsed->port;
        }
    }
    if (auto v = r.integer("threads", 1, 256)) s.threads = unsigned(*v);
    if (auto v = r.integer("max_header_bytes", 1024, 1 << 20)) s.max_header_bytes = *v;
    if (auto v = r.integer("max_body_bytes", 0, 64 << 20)) s.max_body_bytes = *v;
    if (auto v = r.integer("read_timeout_ms", 1, kDay_ms))
        s.read_timeout = std::chrono::milliseconds(*v);
    if (auto v = r.integer("idle_timeout_ms", 1, kDay_ms))
        s.idle_timeout = std::chrono::milliseconds(*v);
    if (auto v = r.integer("subscriber_queue_frames", 1, 100'000'000))
        s.subscriber_queue_frames = *v;
    if (auto v = r.integer("ws_ping_interval_ms", 1, kDay_ms))
        s.ws_ping_interval = std::chrono::milliseconds(*v);
    if (auto v = r.integer("max_connections", 1, 1'000'000)) s.max_connections = *v;
    if (auto v = r.integer("label_json_cache", 0, 16'777'216)) s.label_json_cache = *v;
    if (auto v = r.integer("query_cache", 0, 65'536)) s.query_cache = *v;
    r.finish();
}

void read_storage(table_reader& top, profile& out) {
    auto* t = top.table("storage", true);
    if (!t) return;
    table_reader r(top.report(), *t, "storage", "in [storage]");
    if (auto p = r.str("path", true)) {
        if (p->empty())
            r.report().add("storage.path", "must not be empty");
        else
            out.storage.path = *p;
    }
    if (auto v = r.choice("sync", {"batch", "interval"}))
        out.storage.sync =
            *v == "batch" ? storage_config::sync_mode::batch : storage_config::sync_mode::interval;
    if (auto v = r.integer("sync_interval_ms", 1, 3'600'000))
        out.storage.sync_interval = std::chrono::milliseconds(*v);
    r.finish();
}

void read_source(table_reader& top, profile& out) {
    auto* t = top.table("source", true);
    if (!t) return;
    table_reader r(top.report(), *t, "source", "in [source]");
    auto& s = out.source;
    auto kind = r.choice("kind", {"jetstream", "firehose", "file"}, true);
    using kind_t = source_config::kind_t;
    if (kind)
        s.kind = *kind == "jetstream"  ? kind_t::jetstream
                 : *kind == "firehose" ? kind_t::firehose
                                       : kind_t::file;
    const bool network = kind && *kind != "file";
    const bool file = kind && *kind == "file";

    if (auto* urls = r.array("urls", network)) {
        if (file)
            r.report().add("source.urls", "only used with kind = \"jetstream\" or \"firehose\"");
        if (urls->empty() && network) r.report().add("source.urls", "must list at least one URL");
        std::set<std::string> seen;
        for (std::size_t i = 0; i < urls->size(); ++i) {
            auto key = fmt::format("source.urls[{}]", i);
            const toml::node& n = *urls->get(i);
            if (!n.is_string()) {
                r.report().add(key, fmt::format("expected a string, got {}", type_name(n.type())));
                continue;
            }
            std::string url = n.as_string()->get();
            if (auto why = check_ws_url(url))
                r.report().add(key, fmt::format("{} {}", quote_value(url), *why));
            else if (!seen.insert(url).second)
                r.report().add(key, fmt::format("{} is listed twice", quote_value(url)));
            else
                s.urls.push_back(url);
        }
    }
    if (auto f = r.str("file", file)) {
        if (network) r.report().add("source.file", "only used with kind = \"file\"");
        if (f->empty()) r.report().add("source.file", "must not be empty");
        s.file = *f;
    }
    if (auto v = r.choice("format", {"jetstream", "firehose"})) {
        if (network) r.report().add("source.format", "only used with kind = \"file\"");
        s.format = *v == "jetstream" ? source_config::file_format::jetstream
                                     : source_config::file_format::firehose;
    }
    if (auto v = r.choice("pace", {"full", "recorded"})) {
        if (network) r.report().add("source.pace", "only used with kind = \"file\"");
        s.pace_recorded = *v == "recorded";
    }
    if (auto v = r.integer("cursor", 0, kMaxI64)) s.cursor = std::uint64_t(*v);
    if (auto v = r.integer("rewind_seconds", 0, 86'400)) s.rewind = std::chrono::seconds(*v);
    if (auto v = r.str("zstd_dictionary")) {
        if (kind && *kind != "jetstream")
            r.report().add("source.zstd_dictionary", "only used with kind = \"jetstream\"");
        if (v->empty())
            r.report().add("source.zstd_dictionary", "must not be empty");
        else
            s.zstd_dictionary = *v;
    }
    if (auto v = r.str("ca_file")) {
        if (file)
            r.report().add("source.ca_file", "only used with kind = \"jetstream\" or \"firehose\"");
        if (v->empty())
            r.report().add("source.ca_file", "must not be empty");
        else if (auto why = check_ca_file(*v))
            r.report().add("source.ca_file", fmt::format("{} {}", quote_value(*v), *why));
        else
            s.ca_file = *v;
    }
    if (auto v = r.integer("max_event_bytes", 1024, 1LL << 30)) s.max_event_bytes = *v;
    auto bi = r.integer("backoff_initial_ms", 1, kDay_ms);
    auto bm = r.integer("backoff_max_ms", 1, kDay_ms);
    if (bi) s.backoff_initial = std::chrono::milliseconds(*bi);
    if (bm) s.backoff_max = std::chrono::milliseconds(*bm);
    if ((bi || bm) && s.backoff_max < s.backoff_initial)
        r.report().add("source.backoff_max_ms",
                       fmt::format("{} is below backoff_initial_ms ({})", s.backoff_max.count(),
                                   s.backoff_initial.count()));
    r.finish();
}

void read_pipeline(table_reader& top, profile& out) {
    auto* t = top.table("pipeline");
    if (!t) return;
    table_reader r(top.report(), *t, "pipeline", "in [pipeline]");
    if (auto v = r.integer("queue_capacity", 1, 10'000'000)) out.pipeline.queue_capacity = *v;
    if (auto v = r.integer("batch_max", 1, 1'000'000)) out.pipeline.batch_max = *v;
    r.finish();
}

void read_locale(problems& p, const toml::table& t, const std::string& prefix, locale& out) {
    table_reader r(p, t, prefix, "in " + prefix);
    if (auto v = r.str("lang", true)) {
        if (auto why = check_lang(*v))
            p.add(prefix + ".lang", fmt::format("{} {}", quote_value(*v), *why));
        out.lang = *v;
    }
    if (auto v = r.str("name", true)) {
        if (auto why = check_text(*v, 64, 640)) p.add(prefix + ".name", *why);
        out.name = *v;
    }
    if (auto v = r.str("description", true)) {
        if (auto why = check_text(*v, 10'000, 100'000)) p.add(prefix + ".description", *why);
        out.description = *v;
    }
    r.finish();
}

void read_value(problems& p, const toml::table& t, const std::string& prefix, label_value& out) {
    table_reader r(p, t, prefix, "in " + prefix);
    if (auto id = r.str("id", true)) {
        if (auto why = check_label_id(*id))
            p.add(prefix + ".id", fmt::format("{} {}", quote_value(*id), *why));
        out.id = *id;
    }
    if (auto v = r.integer("weight", 1, 1'000'000'000)) out.weight = std::uint32_t(*v);
    if (auto* locales = r.array("locales", true)) {
        if (locales->empty()) p.add(prefix + ".locales", "must list at least one locale");
        std::set<std::string> langs;
        for (std::size_t i = 0; i < locales->size(); ++i) {
            auto key = fmt::format("{}.locales[{}]", prefix, i);
            const toml::node& n = *locales->get(i);
            if (!n.is_table()) {
                p.add(key, fmt::format("expected a table, got {}", type_name(n.type())));
                continue;
            }
            locale loc;
            read_locale(p, *n.as_table(), key, loc);
            if (!loc.lang.empty() && !langs.insert(loc.lang).second)
                p.add(key + ".lang", fmt::format("{} appears twice", quote_value(loc.lang)));
            out.locales.push_back(std::move(loc));
        }
    }
    if (auto v = r.choice("severity", {"inform", "alert", "none"})) out.severity = *v;
    if (auto v = r.choice("blurs", {"content", "media", "none"})) out.blurs = *v;
    if (auto v = r.choice("default_setting", {"ignore", "warn", "hide"})) out.default_setting = *v;
    if (auto v = r.boolean("adult_only")) out.adult_only = *v;
    r.finish();
}

void read_labels(table_reader& top, profile& out) {
    auto* t = top.table("labels", true);
    if (!t) return;
    table_reader r(top.report(), *t, "labels", "in [labels]");
    auto& p = r.report();
    if (auto* values = r.array("values", true)) {
        if (values->empty()) p.add("labels.values", "must list at least one label value");
        std::set<std::string> ids;
        for (std::size_t i = 0; i < values->size(); ++i) {
            auto key = fmt::format("labels.values[{}]", i);
            const toml::node& n = *values->get(i);
            if (!n.is_table()) {
                p.add(key, fmt::format("expected a table, got {}", type_name(n.type())));
                continue;
            }
            label_value v;
            read_value(p, *n.as_table(), key, v);
            if (!v.id.empty() && !ids.insert(v.id).second)
                p.add(key + ".id", fmt::format("{} is defined twice", quote_value(v.id)));
            out.values.push_back(std::move(v));
        }
    }
    r.finish();
}

void read_reroll(table_reader& top, profile& out) {
    auto* t = top.table("reroll");
    if (!t) return;
    table_reader r(top.report(), *t, "reroll", "in [reroll]");
    auto& p = r.report();
    auto& rr = out.reroll;
    bool has_daily = r.has("daily_at"), has_every = r.has("every");
    if (auto v = r.str("daily_at")) {
        if (auto m = parse_daily_at(*v)) {
            rr.mode = reroll_config::mode_t::daily;
            rr.daily_at = *m;
        } else {
            p.add("reroll.daily_at",
                  fmt::format("{} must be \"HH:MM\" (00:00 to 23:59)", quote_value(*v)));
        }
    }
    if (auto v = r.str("every")) {
        if (auto s = parse_every(*v)) {
            rr.mode = reroll_config::mode_t::every;
            rr.every = *s;
        } else {
            p.add("reroll.every",
                  fmt::format("{} must be a positive whole number of hours, minutes or seconds "
                              "(\"24h\", \"90m\", \"30s\"; at most 366 days)",
                              quote_value(*v)));
        }
    }
    bool has_offset = r.has("utc_offset");
    if (auto v = r.str("utc_offset")) {
        if (auto m = parse_utc_offset(*v))
            rr.utc_offset = *m;
        else
            p.add("reroll.utc_offset",
                  fmt::format("{} must be \"+HH:MM\" or \"-HH:MM\" (at most 14:00)",
                              quote_value(*v)));
    }
    if (has_daily && has_every)
        p.add("reroll", "set either daily_at or every, not both");
    else if (!has_daily && !has_every)
        p.add("reroll", "needs daily_at = \"HH:MM\" or every = \"<n>h|<n>m|<n>s\"");
    else if (has_every && has_offset)
        p.add("reroll.utc_offset", "only used with daily_at");
    r.finish();
}

void read_admin(table_reader& top, profile& out) {
    auto* t = top.table("admin");
    if (!t) return;
    table_reader r(top.report(), *t, "admin", "in [admin]");
    if (auto v = r.str("token_file")) {
        if (v->empty())
            r.report().add("admin.token_file", "must not be empty");
        else
            out.admin_token_file = *v;
    }
    r.finish();
}

void read_log(table_reader& top, profile& out) {
    auto* t = top.table("log");
    if (!t) return;
    table_reader r(top.report(), *t, "log", "in [log]");
    if (auto v = r.choice("level", {"debug", "info", "warn", "error", "off"})) out.log_level = *v;
    r.finish();
}

}  // namespace

result<profile> parse_profile(std::string_view toml_text, const std::filesystem::path& file) {
    const std::string name = file.string();
    toml::table doc;
    try {
        doc = toml::parse(toml_text, name);
    } catch (const toml::parse_error& e) {
        const auto& b = e.source().begin;
        return error(int(errc::syntax), fmt::format("{}:{}:{}: TOML syntax error: {}", name, b.line,
                                                    b.column, e.description()));
    }

    problems p(name);
    profile out;
    out.file = file;
    table_reader top(p, doc, "", "at top level");
    if (auto env = top.str("environment", true)) {
        if (auto why = check_environment(*env))
            p.add("environment", fmt::format("{} {}", quote_value(*env), *why));
        else
            out.environment = *env;
    }
    read_labeler(top, out);
    read_server(top, out);
    read_storage(top, out);
    read_source(top, out);
    read_pipeline(top, out);
    read_labels(top, out);
    read_reroll(top, out);
    read_admin(top, out);
    read_log(top, out);
    top.finish();

    if (!p.empty()) return error(int(errc::invalid), p.joined());
    return out;
}

result<profile> load_profile(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        std::error_code ec;
        bool exists = std::filesystem::exists(file, ec);
        return error(int(errc::io),
                     fmt::format("{}: cannot read the profile ({})", file.string(),
                                 exists ? "permission denied or unreadable" : "no such file"));
    }
    if (std::filesystem::is_directory(file))
        return error(int(errc::io),
                     fmt::format("{}: is a directory, not a profile", file.string()));
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) return error(int(errc::io), fmt::format("{}: read error", file.string()));
    return parse_profile(ss.str(), file);
}

}  // namespace labeler::config
