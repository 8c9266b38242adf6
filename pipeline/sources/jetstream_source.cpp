// Jetstream source: subscribes to app.bsky.graph.follow on a Jetstream instance and hands every
// event (JSON text) to the sink. Binary frames are zstd-compressed events, decoded with the
// configured dictionary (one ZSTD_DCtx and one output buffer, reused). Resumes from the
// committed time_us cursor minus source.rewind (Jetstream's cursor is inclusive, and replays are
// idempotent downstream).
#include <zstd.h>

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <fstream>
#include <iterator>

#include "pipeline/sources/source.hpp"
#include "pipeline/sources/ws_client.hpp"
#include "src/common/log.hpp"

namespace labeler::pipeline {

namespace {

const labeler::logger log_{"source"};

// Decompresses single zstd frames with a fixed dictionary into a reused buffer.
// Not thread-safe (used only on the source thread).
class zstd_decoder {
public:
    zstd_decoder() = default;
    ~zstd_decoder() {
        if (dctx_) ZSTD_freeDCtx(dctx_);
        if (ddict_) ZSTD_freeDDict(ddict_);
    }
    zstd_decoder(const zstd_decoder&) = delete;
    zstd_decoder& operator=(const zstd_decoder&) = delete;

    // Loads the dictionary file; false (with `why`) if unreadable or not a dictionary.
    bool load(const std::filesystem::path& file, std::string& why) {
        std::ifstream in(file, std::ios::binary);
        if (!in) {
            why = "cannot open " + file.string();
            return false;
        }
        std::string dict((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (dict.empty()) {
            why = file.string() + " is empty";
            return false;
        }
        ddict_ = ZSTD_createDDict(dict.data(), dict.size());
        dctx_ = ZSTD_createDCtx();
        if (!ddict_ || !dctx_) {
            why = file.string() + ": not a usable zstd dictionary";
            return false;
        }
        ZSTD_DCtx_refDDict(dctx_, ddict_);
        return true;
    }
    bool loaded() const { return ddict_ != nullptr; }

    enum class status { ok, corrupt, too_large };
    // Decompresses one frame; on ok, `out` views the decoded bytes until the next call.
    status decode(std::string_view in, std::size_t max_bytes, std::string_view& out) {
        ZSTD_DCtx_reset(dctx_, ZSTD_reset_session_only);
        if (buf_.size() < 64 * 1024) buf_.resize(64 * 1024);
        ZSTD_inBuffer ib{in.data(), in.size(), 0};
        ZSTD_outBuffer ob{buf_.data(), buf_.size(), 0};
        for (;;) {
            std::size_t r = ZSTD_decompressStream(dctx_, &ob, &ib);
            if (ZSTD_isError(r)) return status::corrupt;
            if (ob.pos > max_bytes) return status::too_large;
            if (r == 0) break;  // frame complete
            if (ob.pos == ob.size) {
                if (buf_.size() > max_bytes) return status::too_large;
                buf_.resize(std::min(buf_.size() * 2, max_bytes + 1));
                ob.dst = buf_.data();
                ob.size = buf_.size();
                continue;
            }
            if (ib.pos == ib.size) return status::corrupt;  // truncated frame
        }
        if (ib.pos != ib.size) return status::corrupt;  // trailing bytes after the frame
        out = std::string_view(buf_.data(), ob.pos);
        return status::ok;
    }

private:
    ZSTD_DDict* ddict_ = nullptr;
    ZSTD_DCtx* dctx_ = nullptr;
    std::string buf_;
};

// jetstream_source: the Jetstream protocol on top of ws::reconnecting_client.
// Owns the client (and its thread) and the zstd decoder; all handler calls run on that thread.
class jetstream_source final : public source, private ws::message_handler {
public:
    explicit jetstream_source(source_context ctx)
        : ctx_(std::move(ctx)),
          dropped_(prometheus::BuildCounter()
                       .Name("labeler_source_dropped_total")
                       .Help("Messages the source discarded, by reason")
                       .Register(ctx_.metrics)),
          no_dictionary_(dropped_.Add({{"reason", "binary_without_dictionary"}})),
          zstd_error_(dropped_.Add({{"reason", "zstd_error"}})),
          oversize_(dropped_.Add({{"reason", "oversize"}})) {
        if (ctx_.config.zstd_dictionary) {
            std::string why;
            if (!zstd_.load(*ctx_.config.zstd_dictionary, why))
                log_.error("jetstream: zstd dictionary unusable ({}); compressed frames will be "
                           "dropped and compression is not requested", why);
        }
        auto o = client_options_for(ctx_.config, "jetstream");
        auto& handler = static_cast<ws::message_handler&>(*this);
        client_ = std::make_unique<ws::reconnecting_client>(std::move(o), handler, ctx_.metrics);
    }
    ~jetstream_source() override { stop(); }

    void start() override { client_->start(); }
    void stop() override { client_->stop(); }
    bool finished() const override { return false; }

private:
    std::vector<ws::query_param> connect_params(std::string& cursor_text) override {
        std::vector<ws::query_param> p;
        p.emplace_back("wantedCollections", "app.bsky.graph.follow");
        if (auto c = ctx_.resume_cursor ? ctx_.resume_cursor() : std::nullopt) {
            auto rewind_us = std::uint64_t(
                std::chrono::duration_cast<std::chrono::microseconds>(ctx_.config.rewind).count());
            std::uint64_t from = *c > rewind_us ? *c - rewind_us : 0;
            cursor_text = fmt::format("{} (stored {} minus rewind {}s)", from, *c,
                                      ctx_.config.rewind.count());
            p.emplace_back("cursor", std::to_string(from));
        }
        if (ctx_.config.max_event_bytes > 0)
            p.emplace_back("maxMessageSizeBytes", std::to_string(ctx_.config.max_event_bytes));
        if (zstd_.loaded()) p.emplace_back("compress", "true");
        return p;
    }

    ws::verdict on_message(std::string_view payload, bool binary) override {
        if (!binary) {
            ctx_.sink.on_frame(payload, frame_kind::jetstream_json);
            return ws::verdict::next();
        }
        if (!zstd_.loaded()) {
            no_dictionary_.Increment();
            return ws::verdict::next();
        }
        std::string_view json;
        switch (zstd_.decode(payload, ctx_.config.max_event_bytes, json)) {
        case zstd_decoder::status::ok:
            ctx_.sink.on_frame(json, frame_kind::jetstream_json);
            break;
        case zstd_decoder::status::corrupt:
            zstd_error_.Increment();
            break;
        case zstd_decoder::status::too_large:
            oversize_.Increment();
            break;
        }
        return ws::verdict::next();
    }

    void on_oversize(std::size_t) override { oversize_.Increment(); }

    source_context ctx_;
    prometheus::Family<prometheus::Counter>& dropped_;
    prometheus::Counter& no_dictionary_;
    prometheus::Counter& zstd_error_;
    prometheus::Counter& oversize_;
    zstd_decoder zstd_;
    std::unique_ptr<ws::reconnecting_client> client_;  // last: stopped and destroyed first
};

}  // namespace

std::unique_ptr<source> make_jetstream_source(source_context ctx) {
    return std::make_unique<jetstream_source>(std::move(ctx));
}

}  // namespace labeler::pipeline
