// Relay firehose source: com.atproto.sync.subscribeRepos with cursor=<seq>. Every binary
// message (DAG-CBOR header + body) goes to the sink; decoding is the pipeline's decode stage.
// The one thing this source inspects is the header: an error frame ({op:-1}, e.g. FutureCursor
// or ConsumerTooSlow) is not delivered; it ends the connection with a logged, counted reconnect.
#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <cstring>

#include "pipeline/sources/source.hpp"
#include "pipeline/sources/ws_client.hpp"
#include "src/common/log.hpp"

namespace labeler::pipeline {

namespace {

// {op:-1} in canonical DAG-CBOR: the whole header of every error frame.
constexpr unsigned char error_header[] = {0xa1, 0x62, 0x6f, 0x70, 0x20};

// Reads a definite-length CBOR text string at `p`; false if it is anything else.
bool read_text(std::string_view& p, std::string_view& out) {
    if (p.empty()) return false;
    auto ib = std::uint8_t(p[0]);
    if ((ib >> 5) != 3) return false;
    std::uint64_t len = ib & 0x1f;
    std::size_t head = 1;
    if (len == 24) {
        if (p.size() < 2) return false;
        len = std::uint8_t(p[1]);
        head = 2;
    } else if (len == 25) {
        if (p.size() < 3) return false;
        len = (std::uint64_t(std::uint8_t(p[1])) << 8) | std::uint8_t(p[2]);
        head = 3;
    } else if (len > 23) {
        return false;
    }
    if (p.size() - head < len) return false;
    out = p.substr(head, len);
    p.remove_prefix(head + len);
    return true;
}

}  // namespace

// Extracts `error` and `message` from an error frame body {error, message?}. Best effort: a
// malformed body yields empty strings. Exposed for tests.
void parse_error_body(std::string_view body, std::string& error, std::string& message) {
    if (body.empty()) return;
    auto ib = std::uint8_t(body[0]);
    if ((ib >> 5) != 5 || (ib & 0x1f) > 23) return;
    std::size_t n = ib & 0x1f;
    body.remove_prefix(1);
    for (std::size_t i = 0; i < n; ++i) {
        std::string_view k, v;
        if (!read_text(body, k) || !read_text(body, v)) return;
        if (k == "error") error = std::string(v);
        if (k == "message") message = std::string(v.substr(0, 200));
    }
}

namespace {

// firehose_source: subscribeRepos on top of ws::reconnecting_client; owns the client's thread.
class firehose_source final : public source, private ws::message_handler {
public:
    explicit firehose_source(source_context ctx)
        : ctx_(std::move(ctx)),
          dropped_(prometheus::BuildCounter()
                       .Name("labeler_source_dropped_total")
                       .Help("Messages the source discarded, by reason")
                       .Register(ctx_.metrics)),
          text_(dropped_.Add({{"reason", "text_frame"}})),
          oversize_(dropped_.Add({{"reason", "oversize"}})),
          error_frames_(prometheus::BuildCounter()
                            .Name("labeler_source_error_frames_total")
                            .Help("Error frames ({op:-1}) received from the relay, by error")
                            .Register(ctx_.metrics)) {
        auto o = client_options_for(ctx_.config, "firehose");
        auto& handler = static_cast<ws::message_handler&>(*this);
        client_ = std::make_unique<ws::reconnecting_client>(std::move(o), handler, ctx_.metrics);
    }
    ~firehose_source() override { stop(); }

    void start() override { client_->start(); }
    void stop() override { client_->stop(); }
    bool finished() const override { return false; }

private:
    std::vector<ws::query_param> connect_params(std::string& cursor_text) override {
        std::vector<ws::query_param> p;
        if (auto c = ctx_.resume_cursor ? ctx_.resume_cursor() : std::nullopt) {
            cursor_text = std::to_string(*c);
            p.emplace_back("cursor", cursor_text);
        }
        return p;
    }

    ws::verdict on_message(std::string_view payload, bool binary) override {
        if (!binary) {
            text_.Increment();
            return ws::verdict::next();
        }
        if (payload.size() >= sizeof(error_header) &&
            std::memcmp(payload.data(), error_header, sizeof(error_header)) == 0) {
            std::string error, message;
            parse_error_body(payload.substr(sizeof(error_header)), error, message);
            std::string reason = error == "FutureCursor"      ? "future_cursor"
                                 : error == "ConsumerTooSlow" ? "consumer_too_slow"
                                                              : "error_frame";
            error_frames_.Add({{"error", reason}}).Increment();
            return ws::verdict::drop(
                reason, fmt::format("error frame {}{}{}", error.empty() ? "(unnamed)" : error,
                                    message.empty() ? "" : ": ", message));
        }
        ctx_.sink.on_frame(payload, frame_kind::firehose);
        return ws::verdict::next();
    }

    void on_oversize(std::size_t) override { oversize_.Increment(); }

    source_context ctx_;
    prometheus::Family<prometheus::Counter>& dropped_;
    prometheus::Counter& text_;
    prometheus::Counter& oversize_;
    prometheus::Family<prometheus::Counter>& error_frames_;
    std::unique_ptr<ws::reconnecting_client> client_;  // last: stopped and destroyed first
};

}  // namespace

std::unique_ptr<source> make_firehose_source(source_context ctx) {
    return std::make_unique<firehose_source>(std::move(ctx));
}

}  // namespace labeler::pipeline
