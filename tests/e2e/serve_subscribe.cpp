// E2E: subscribeLabels on the real binary, from a seeded data folder: replay, cursor rules,
// FutureCursor, protocol errors, pings, graceful close on SIGTERM, and an independent check
// of frames and labels with the reference JavaScript implementation.
#include <catch2/catch.hpp>

#include <cstdio>
#include <sys/wait.h>

#include "tests/e2e/harness.hpp"

using namespace labeler;
using namespace labeler::e2e;

namespace {

constexpr const char* sl = "/xrpc/com.atproto.label.subscribeLabels";

}  // namespace

TEST_CASE("subscribeLabels: replay from a cursor sends seq > cursor, one label per frame") {
    served s(200);
    for (std::uint64_t cursor : {0ull, 1ull, 150ull}) {
        INFO("cursor " << cursor);
        ws_client c;
        REQUIRE(c.connect(s.port(), std::string(sl) + "?cursor=" + std::to_string(cursor)) == 101);
        std::uint64_t expect = cursor + 1;
        for (; expect <= 200; ++expect) {
            auto bytes = c.read_frame();
            REQUIRE(bytes);
            // exact header bytes {t:"#labels", op:1}
            REQUIRE(bytes->compare(0, 15, "\xa2\x61t\x67#labels\x62op\x01") == 0);
            auto f = decode_frame(*bytes);
            REQUIRE(f.has_value());
            REQUIRE(f->op == 1);
            REQUIRE(f->t == "#labels");
            REQUIRE(f->seq == s.seeded[expect - 1].seq);
            REQUIRE(f->labels.size() == 1);
            REQUIRE(f->label_cbor[0] == s.seeded[expect - 1].cbor);  // stored bytes, verbatim
            REQUIRE(verify_label(f->labels[0], s.did_key));
        }
        // nothing more (no live traffic): the read times out, the connection stays open
        CHECK_FALSE(c.read_frame(300ms));
        CHECK_FALSE(c.closed());
        c.close();
    }
    CHECK(s.proc->terminate() == 0);
}

TEST_CASE("subscribeLabels: no cursor means live only") {
    served s(20);
    ws_client c;
    REQUIRE(c.connect(s.port(), sl) == 101);
    CHECK_FALSE(c.read_frame(500ms));
    CHECK_FALSE(c.closed());
    CHECK(c.ping());
    CHECK(s.proc->terminate() == 0);
}

TEST_CASE("subscribeLabels: a cursor in the future gets FutureCursor and close 1008") {
    served s(10);
    ws_client c;
    REQUIRE(c.connect(s.port(), std::string(sl) + "?cursor=11") == 101);
    auto bytes = c.read_frame();
    REQUIRE(bytes);
    REQUIRE(bytes->compare(0, 5, "\xa1\x62op\x20") == 0);
    auto f = decode_frame(*bytes);
    REQUIRE(f.has_value());
    CHECK(f->op == -1);
    CHECK(f->error == "FutureCursor");
    CHECK_FALSE(c.read_frame());
    CHECK(c.closed());
    CHECK(c.close_code() == 1008);
    CHECK(c.close_reason() == "FutureCursor");

    // cursor == last seq is not in the future: nothing to replay, stays open
    ws_client d;
    REQUIRE(d.connect(s.port(), std::string(sl) + "?cursor=10") == 101);
    CHECK_FALSE(d.read_frame(300ms));
    CHECK_FALSE(d.closed());

    // a malformed cursor is an InvalidRequest error frame
    ws_client e;
    REQUIRE(e.connect(s.port(), std::string(sl) + "?cursor=abc") == 101);
    auto eb = e.read_frame();
    REQUIRE(eb);
    auto ef = decode_frame(*eb);
    REQUIRE(ef.has_value());
    CHECK(ef->error == "InvalidRequest");
    CHECK_FALSE(e.read_frame());
    CHECK(e.close_code() == 1008);
    CHECK(s.proc->terminate() == 0);
}

TEST_CASE("subscribeLabels: non-GET is 405, GET without upgrade is 426") {
    served s(1);
    auto post = http_request(s.port(), "POST", sl);
    CHECK(post.status == 405);
    auto get = http_get(s.port(), sl);
    CHECK(get.status == 426);
    CHECK(json_string_field(get.body, "error") == "InvalidRequest");
    CHECK(s.proc->terminate() == 0);
}

TEST_CASE("SIGTERM closes WebSockets with a close frame and exits 0") {
    served s(5);
    ws_client c;
    REQUIRE(c.connect(s.port(), std::string(sl) + "?cursor=5") == 101);
    CHECK_FALSE(c.read_frame(200ms));
    int status = -1;
    std::thread t([&] { status = s.proc->terminate(); });
    CHECK_FALSE(c.read_frame(15s));
    CHECK(c.closed());
    CHECK(c.close_code() == 1001);
    t.join();
    CHECK(status == 0);
    CHECK(s.proc->log().find("listening on 127.0.0.1:") != std::string::npos);
}

TEST_CASE("frames and labels verify with the reference JavaScript implementation") {
    auto dir = interop_dir();
    REQUIRE(std::filesystem::exists(dir / "node_modules" / "@ipld" / "dag-cbor"));
    served s(300);
    std::string cmd = "cd '" + dir.string() + "' && node check-server.mjs " +
                      std::to_string(s.port()) + " " + s.did_key + " 300 2>&1";
    FILE* p = ::popen(cmd.c_str(), "r");
    REQUIRE(p);
    std::string out;
    char buf[4096];
    while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
    int rc = ::pclose(p);
    INFO(out);
    CHECK(WIFEXITED(rc));
    CHECK(WEXITSTATUS(rc) == 0);
    CHECK(out.find("frames=300 queried=300 failures=0") != std::string::npos);
    CHECK(s.proc->terminate() == 0);
}
