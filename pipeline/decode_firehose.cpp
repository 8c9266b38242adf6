// Firehose (com.atproto.sync.subscribeRepos) frame decoding with the strict DAG-CBOR decoder
// and the CAR reader (every block's sha2-256 checked against its CID). See decode.hpp.
#include <fmt/format.h>

#include "pipeline/decode.hpp"
#include "src/atproto/car.hpp"
#include "src/atproto/cbor.hpp"
#include "src/atproto/datetime.hpp"
#include "src/atproto/syntax.hpp"

namespace labeler::pipeline {
namespace {

namespace cbor = atproto::cbor;
constexpr std::string_view follow_prefix = "app.bsky.graph.follow/";

error decode_error(decode_errc c, std::string msg) { return error(int(c), std::move(msg)); }

std::int64_t time_us_of(const cbor::value& body) {
    auto t = body.get_text("time");
    if (!t) return 0;
    auto ms = atproto::parse_datetime_ms(*t);
    if (!ms) return 0;
    return std::int64_t(ms->time_since_epoch().count()) * 1000;
}

}  // namespace

struct firehose_decoder::impl {
    std::size_t max_bytes;
    cbor::decoder frame_dec;
    cbor::decoder record_dec;

    // Header + seq/time; sets d.kind from `t`. `body` is left pointing at the frame body.
    result<cbor::frame> head(std::string_view frame, decoded& d) {
        if (frame.size() > max_bytes)
            return decode_error(decode_errc::oversize,
                                fmt::format("firehose: frame of {} bytes exceeds the limit of {}",
                                            frame.size(), max_bytes));
        auto f = frame_dec.decode_frame(frame);
        if (!f) return decode_error(decode_errc::malformed, "firehose: " + f.error().message);
        auto op = f->header.get_int("op");
        if (!f->header.is_map() || !op)
            return decode_error(decode_errc::schema, "firehose: header has no integer `op`");
        if (*op == -1) {
            auto name = f->body.get_text("error").value_or("(unnamed)");
            auto msg = f->body.get_text("message").value_or("");
            return decode_error(decode_errc::error_frame,
                                fmt::format("firehose: error frame {}{}{}", name,
                                            msg.empty() ? "" : ": ", msg));
        }
        if (!f->body.is_map())
            return decode_error(decode_errc::schema, "firehose: body is not a map");
        auto t = f->header.get_text("t").value_or("");
        d.kind = *op != 1              ? message_kind::unknown
                 : t == "#commit"      ? message_kind::commit_other
                 : t == "#account"     ? message_kind::account
                 : t == "#identity"    ? message_kind::identity
                 : t == "#sync"        ? message_kind::sync
                 : t == "#info"        ? message_kind::info
                                       : message_kind::unknown;
        if (auto seq = f->body.get_int("seq"); seq && *seq >= 0) {
            d.cursor = std::uint64_t(*seq);
            d.has_cursor = true;
        } else if (d.kind != message_kind::info && d.kind != message_kind::unknown) {
            return decode_error(decode_errc::schema, "firehose: body has no valid `seq`");
        }
        d.time_us = time_us_of(f->body);
        return f;
    }

    result<decoded> commit(const cbor::value& body, decoded d, std::vector<event>& out) {
        auto repo = body.get_text("repo");
        auto ops = body.find("ops");
        if (!repo || !ops || !ops->is_array())
            return decode_error(decode_errc::schema, "firehose: #commit without repo or ops");
        std::optional<atproto::car_file> car;
        const std::size_t first = out.size();
        auto fail = [&](decode_errc c, std::string msg) {
            out.resize(first);
            return decode_error(c, std::move(msg));
        };
        for (auto& op : ops->items()) {
            auto path = op.get_text("path");
            auto action = op.get_text("action");
            if (!path || !action)
                return fail(decode_errc::schema, "firehose: op without path or action");
            if (!path->starts_with(follow_prefix)) continue;
            d.kind = message_kind::follow;
            auto rkey = path->substr(follow_prefix.size());
            if (!atproto::is_valid_did(*repo) || !atproto::is_valid_record_key(rkey))
                return fail(decode_errc::schema,
                            fmt::format("firehose: invalid repo or record key in {}", *path));
            event ev;
            ev.did = *repo;
            ev.rkey = rkey;
            if (*action == "delete") {
                ev.kind = event_kind::follow_delete;
                out.push_back(std::move(ev));
                continue;
            }
            if (*action != "create" && *action != "update")
                return fail(decode_errc::schema, fmt::format("firehose: unknown action {}", *action));
            auto link = op.find("cid");
            if (!link || !link->is_link())
                return fail(decode_errc::schema, "firehose: create/update op without a cid link");
            if (!car) {
                auto blocks = body.find("blocks");
                if (!blocks || !blocks->is_bytes())
                    return fail(decode_errc::schema, "firehose: #commit without blocks");
                auto parsed = atproto::parse_car(blocks->as_bytes(), true);
                if (!parsed) return fail(decode_errc::car, "firehose: " + parsed.error().message);
                car = std::move(*parsed);
            }
            auto* block = car->find(link->as_link());
            if (!block)
                return fail(decode_errc::record,
                            fmt::format("firehose: record of {} is not in the CAR", *path));
            auto rec = record_dec.decode(block->data);
            if (!rec)
                return fail(decode_errc::record,
                            fmt::format("firehose: record of {}: {}", *path, rec.error().message));
            auto subject = rec->get_text("subject");
            if (!subject)
                return fail(decode_errc::record,
                            fmt::format("firehose: record of {} has no text subject", *path));
            ev.kind = event_kind::follow_create;
            ev.subject = *subject;
            out.push_back(std::move(ev));
        }
        return d;
    }

    result<decoded> account(const cbor::value& body, decoded d, std::vector<event>& out) {
        auto did = body.get_text("did");
        auto active = body.get_bool("active");
        if (!did || !active || !atproto::is_valid_did(*did))
            return decode_error(decode_errc::schema, "firehose: #account without did or active");
        event ev;
        ev.kind = event_kind::account_change;
        ev.did = *did;
        set_account_status(ev, *active, body.get_text("status").value_or(""));
        out.push_back(std::move(ev));
        return d;
    }
};

firehose_decoder::firehose_decoder(std::size_t max_event_bytes)
    : impl_(std::make_unique<impl>()) {
    impl_->max_bytes = max_event_bytes;
}
firehose_decoder::~firehose_decoder() = default;
firehose_decoder::firehose_decoder(firehose_decoder&&) noexcept = default;
firehose_decoder& firehose_decoder::operator=(firehose_decoder&&) noexcept = default;

result<decoded> firehose_decoder::operator()(std::string_view frame, std::vector<event>& out) {
    decoded d;
    auto f = impl_->head(frame, d);
    if (!f) return f.error();
    switch (d.kind) {
        case message_kind::commit_other: return impl_->commit(f->body, d, out);
        case message_kind::account: return impl_->account(f->body, d, out);
        default: return d;
    }
}

result<decoded> firehose_decoder::peek(std::string_view frame) {
    decoded d;
    auto f = impl_->head(frame, d);
    if (!f) return f.error();
    return d;
}

}  // namespace labeler::pipeline
