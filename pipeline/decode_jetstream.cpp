// Jetstream JSON decoding (simdjson On-Demand). See decode.hpp.
#include <simdjson.h>

#include <fmt/format.h>

#include <string.h>

#include <cstring>

#include "pipeline/decode.hpp"
#include "src/atproto/syntax.hpp"

namespace labeler::pipeline {
namespace {

namespace od = simdjson::ondemand;
constexpr std::string_view follow_collection = "app.bsky.graph.follow";

error decode_error(decode_errc c, std::string msg) { return error(int(c), std::move(msg)); }

// A value-level simdjson error: wrong types and out-of-range numbers are schema problems, the
// rest means the text is not valid JSON.
error value_error(simdjson::error_code e, std::string_view field) {
    bool schema = e == simdjson::INCORRECT_TYPE || e == simdjson::NUMBER_OUT_OF_RANGE ||
                  e == simdjson::NUMBER_ERROR;
    return decode_error(schema ? decode_errc::schema : decode_errc::malformed,
                        fmt::format("jetstream: {}: {}", field, simdjson::error_message(e)));
}

}  // namespace

std::string_view reason_name(int code) {
    switch (decode_errc(code)) {
        case decode_errc::oversize: return "oversize";
        case decode_errc::malformed: return "malformed";
        case decode_errc::schema: return "schema";
        case decode_errc::car: return "car";
        case decode_errc::record: return "record";
        case decode_errc::error_frame: return "error_frame";
    }
    return "other";
}

std::string_view kind_name(message_kind k) {
    switch (k) {
        case message_kind::follow: return "follow";
        case message_kind::commit_other: return "commit_other";
        case message_kind::account: return "account";
        case message_kind::identity: return "identity";
        case message_kind::sync: return "sync";
        case message_kind::info: return "info";
        case message_kind::unknown: return "unknown";
    }
    return "unknown";
}

void set_account_status(event& ev, bool active, std::string_view status) {
    using storage::account_status;
    ev.active = active;
    ev.transient = false;
    ev.status = account_status::active;
    if (active) return;
    if (status == "deactivated") ev.status = account_status::deactivated;
    else if (status == "deleted") ev.status = account_status::deleted;
    else if (status == "takendown") ev.status = account_status::takendown;
    else if (status == "suspended") ev.status = account_status::suspended;
    else if (status == "desynchronized" || status == "throttled") {
        ev.status = account_status::other_inactive;
        ev.transient = true;
    } else ev.status = account_status::other_inactive;
}

// The pre-filter: most Jetstream traffic (posts, likes, reposts, identity) can never concern the
// labeler. Jetstream writes every event with the same leading layout (Go's encoding/json, which
// never escapes ASCII letters):
//   {"did":"…","time_us":N,"kind":"identity",…
//   {"did":"…","time_us":N,"kind":"commit","commit":{"rev":"…","operation":"…","collection":"…",…
// A message that starts exactly like that, ends with '}', and is an identity event or a commit
// of another collection is classified from those leading bytes alone (these keys are top-level
// by position). Anything else — follows, accounts, unknown kinds, other layouts, escapes — gets
// the full On-Demand parse.
class prefix_reader {
public:
    explicit prefix_reader(std::string_view s) : s_(s) {}
    bool lit(std::string_view l) {
        if (s_.substr(pos_, l.size()) != l) return false;
        pos_ += l.size();
        return true;
    }
    // A JSON string body up to its closing quote (consumed); no escapes allowed.
    std::optional<std::string_view> str() {
        auto end = s_.find('"', pos_);
        if (end == std::string_view::npos) return std::nullopt;
        auto v = s_.substr(pos_, end - pos_);
        if (v.find('\\') != std::string_view::npos) return std::nullopt;
        pos_ = end + 1;
        return v;
    }
    std::optional<std::uint64_t> number() {
        std::uint64_t v = 0;
        std::size_t digits = 0;
        while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
            auto d = std::uint64_t(s_[pos_++] - '0');
            if (v > (UINT64_MAX - d) / 10) return std::nullopt;
            v = v * 10 + d;
            ++digits;
        }
        if (!digits) return std::nullopt;
        return v;
    }

private:
    std::string_view s_;
    std::size_t pos_ = 0;
};

static std::optional<decoded> quick_classify(std::string_view json, std::string_view keep_subject) {
    if (json.size() < 2 || json.back() != '}') return std::nullopt;
    prefix_reader r(json);
    if (!r.lit("{\"did\":\"") || !r.str() || !r.lit(",\"time_us\":")) return std::nullopt;
    auto t = r.number();
    if (!t || *t > std::uint64_t(INT64_MAX) || !r.lit(",\"kind\":\"")) return std::nullopt;
    decoded d;
    if (r.lit("identity\"")) {
        d.kind = message_kind::identity;
    } else if (r.lit("commit\",\"commit\":{\"rev\":\"") && r.str() &&
               r.lit(",\"operation\":\"")) {
        auto operation = r.str();
        if (!operation || !r.lit(",\"collection\":\"")) return std::nullopt;
        auto collection = r.str();
        if (!collection || collection->empty()) return std::nullopt;
        if (*collection != follow_collection) {
            d.kind = message_kind::commit_other;
        } else {
            // A follow create/update can only concern the labeler if its subject is the
            // labeler's DID, i.e. if those bytes occur in the message (no escapes: Go's encoder
            // never escapes a DID's characters). Anything else gets the full parse.
            if (keep_subject.empty() || (*operation != "create" && *operation != "update") ||
                json.find('\\') != std::string_view::npos ||
                ::memmem(json.data(), json.size(), keep_subject.data(), keep_subject.size()))
                return std::nullopt;
            d.kind = message_kind::follow;
        }
    } else {
        return std::nullopt;
    }
    d.cursor = *t;
    d.has_cursor = true;
    d.time_us = std::int64_t(*t);
    return d;
}

struct jetstream_decoder::impl {
    std::size_t max_bytes;
    bool prefilter = true;
    std::string keep_subject;
    od::parser parser;
    std::vector<char> buf;
};

jetstream_decoder::jetstream_decoder(std::size_t max_event_bytes, bool prefilter,
                                     std::string keep_subject)
    : impl_(std::make_unique<impl>()) {
    impl_->max_bytes = max_event_bytes;
    impl_->prefilter = prefilter;
    impl_->keep_subject = std::move(keep_subject);
    impl_->buf.resize(4096 + simdjson::SIMDJSON_PADDING);
}
jetstream_decoder::~jetstream_decoder() = default;
jetstream_decoder::jetstream_decoder(jetstream_decoder&&) noexcept = default;
jetstream_decoder& jetstream_decoder::operator=(jetstream_decoder&&) noexcept = default;

result<decoded> jetstream_decoder::operator()(std::string_view json, std::vector<event>& out) {
    auto& m = *impl_;
    if (json.size() > m.max_bytes)
        return decode_error(decode_errc::oversize,
                            fmt::format("jetstream: event of {} bytes exceeds the limit of {}",
                                        json.size(), m.max_bytes));
    if (m.prefilter)
        if (auto quick = quick_classify(json, m.keep_subject)) return *quick;
    if (m.buf.size() < json.size() + simdjson::SIMDJSON_PADDING)
        m.buf.resize(json.size() + simdjson::SIMDJSON_PADDING);
    std::memcpy(m.buf.data(), json.data(), json.size());
    std::memset(m.buf.data() + json.size(), 0, simdjson::SIMDJSON_PADDING);
    simdjson::padded_string_view in(m.buf.data(), json.size(), m.buf.size());

    od::document doc;
    if (auto e = m.parser.iterate(in).get(doc)) return value_error(e, "document");
    od::object obj;
    if (auto e = doc.get_object().get(obj)) return value_error(e, "document");

    std::string_view did, kind, operation, collection, rkey, subject, status;
    std::uint64_t time_us = 0;
    bool have_time = false, have_commit = false, have_record = false, subject_string = false;
    bool have_account = false, have_active = false, active = false;

    for (auto fr : obj) {
        od::field f;
        if (auto e = std::move(fr).get(f)) return value_error(e, "document");
        auto key = f.key();
        // Duplicate keys: the first occurrence wins everywhere (as in the pre-filter).
        if (key == "did") {
            if (!did.empty()) continue;
            if (auto e = f.value().get_string().get(did)) return value_error(e, "did");
        } else if (key == "time_us") {
            if (have_time) continue;
            if (auto e = f.value().get_uint64().get(time_us)) return value_error(e, "time_us");
            have_time = true;
        } else if (key == "kind") {
            if (!kind.empty()) continue;
            if (auto e = f.value().get_string().get(kind)) return value_error(e, "kind");
        } else if (key == "commit") {
            if (have_commit) continue;
            od::object c;
            if (auto e = f.value().get_object().get(c)) return value_error(e, "commit");
            have_commit = true;
            for (auto cr : c) {
                od::field cf;
                if (auto e = std::move(cr).get(cf)) return value_error(e, "commit");
                auto ck = cf.key();
                if (ck == "operation") {
                    if (!operation.empty()) continue;
                    if (auto e = cf.value().get_string().get(operation))
                        return value_error(e, "commit.operation");
                } else if (ck == "collection") {
                    if (!collection.empty()) continue;
                    if (auto e = cf.value().get_string().get(collection))
                        return value_error(e, "commit.collection");
                } else if (ck == "rkey") {
                    if (!rkey.empty()) continue;
                    if (auto e = cf.value().get_string().get(rkey))
                        return value_error(e, "commit.rkey");
                } else if (ck == "record") {
                    if (have_record) continue;
                    // Only a follow record's subject matters; skip other collections' records.
                    if (!collection.empty() && collection != follow_collection) continue;
                    od::object r;
                    if (auto e = cf.value().get_object().get(r))
                        return value_error(e, "commit.record");
                    have_record = true;
                    for (auto rr : r) {
                        od::field rf;
                        if (auto e = std::move(rr).get(rf)) return value_error(e, "commit.record");
                        if (rf.key() == "subject" && !subject_string) {
                            od::value v = rf.value();
                            od::json_type t;
                            if (auto e = v.type().get(t))
                                return value_error(e, "commit.record.subject");
                            if (t == od::json_type::string) {
                                if (auto e = v.get_string().get(subject))
                                    return value_error(e, "commit.record.subject");
                                subject_string = true;
                            }
                        }
                    }
                }
            }
        } else if (key == "account") {
            if (have_account) continue;
            od::object a;
            if (auto e = f.value().get_object().get(a)) return value_error(e, "account");
            have_account = true;
            for (auto ar : a) {
                od::field af;
                if (auto e = std::move(ar).get(af)) return value_error(e, "account");
                auto ak = af.key();
                if (ak == "active") {
                    if (have_active) continue;
                    if (auto e = af.value().get_bool().get(active))
                        return value_error(e, "account.active");
                    have_active = true;
                } else if (ak == "status") {
                    if (!status.empty()) continue;
                    if (auto e = af.value().get_string().get(status))
                        return value_error(e, "account.status");
                } else if (ak == "did" && did.empty()) {
                    if (auto e = af.value().get_string().get(did))
                        return value_error(e, "account.did");
                }
            }
        }
    }
    if (!have_time) return decode_error(decode_errc::schema, "jetstream: time_us is missing");

    decoded d;
    d.cursor = time_us;
    d.has_cursor = true;
    d.time_us = time_us > std::uint64_t(INT64_MAX) ? 0 : std::int64_t(time_us);

    if (kind == "commit") {
        if (!have_commit) return decode_error(decode_errc::schema, "jetstream: commit is missing");
        if (collection != follow_collection) {
            if (collection.empty())
                return decode_error(decode_errc::schema, "jetstream: commit.collection is missing");
            d.kind = message_kind::commit_other;
            return d;
        }
        if (!atproto::is_valid_did(did))
            return decode_error(decode_errc::schema, "jetstream: did is missing or invalid");
        if (!atproto::is_valid_record_key(rkey))
            return decode_error(decode_errc::schema, "jetstream: commit.rkey is missing or invalid");
        d.kind = message_kind::follow;
        event ev;
        if (operation == "create" || operation == "update") {
            if (!have_record)
                return decode_error(decode_errc::schema, "jetstream: commit.record is missing");
            if (!subject_string)
                return decode_error(decode_errc::schema,
                                    "jetstream: commit.record.subject is missing or not a string");
            ev.kind = event_kind::follow_create;
            ev.subject = subject;
        } else if (operation == "delete") {
            ev.kind = event_kind::follow_delete;
        } else {
            return decode_error(decode_errc::schema,
                                "jetstream: commit.operation is missing or unknown");
        }
        ev.did = did;
        ev.rkey = rkey;
        out.push_back(std::move(ev));
        return d;
    }
    if (kind == "account") {
        if (!have_account || !have_active)
            return decode_error(decode_errc::schema, "jetstream: account.active is missing");
        if (!atproto::is_valid_did(did))
            return decode_error(decode_errc::schema, "jetstream: did is missing or invalid");
        d.kind = message_kind::account;
        event ev;
        ev.kind = event_kind::account_change;
        ev.did = did;
        set_account_status(ev, active, status);
        out.push_back(std::move(ev));
        return d;
    }
    d.kind = kind == "identity" ? message_kind::identity : message_kind::unknown;
    return d;
}

}  // namespace labeler::pipeline

namespace labeler::pipeline {

std::optional<std::uint64_t> peek_time_us(std::string_view json) {
    constexpr std::string_view key = "\"time_us\"";
    auto pos = json.find(key);
    if (pos == std::string_view::npos) return std::nullopt;
    pos += key.size();
    auto skip_ws = [&] {
        while (pos < json.size() &&
               (json[pos] == ' ' || json[pos] == '\t' || json[pos] == '\n' || json[pos] == '\r'))
            ++pos;
    };
    skip_ws();
    if (pos >= json.size() || json[pos] != ':') return std::nullopt;
    ++pos;
    skip_ws();
    std::uint64_t v = 0;
    std::size_t digits = 0;
    while (pos < json.size() && json[pos] >= '0' && json[pos] <= '9') {
        auto d = std::uint64_t(json[pos] - '0');
        if (v > (UINT64_MAX - d) / 10) return std::nullopt;  // does not fit: let the parser say
        v = v * 10 + d;
        ++pos;
        ++digits;
    }
    if (digits == 0) return std::nullopt;
    return v;
}

}  // namespace labeler::pipeline
