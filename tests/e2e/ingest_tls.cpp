// E2E: the real binary ingesting from the fake Jetstream (and the fake relay) over
// wss://localhost. The test makes a
// throwaway CA and server certificates at run time (fake_ca, OpenSSL API) and the profile trusts
// the CA through [source] ca_file, in a mkdtemp folder. Follows of the labeler become labels;
// a certificate from a CA that is not trusted, or one that does not name the host, is refused:
// nothing is ingested, the binary stays up and healthy, and the failures are counted as
// labeler_source_reconnects_total{reason="tls_error"}.
#include <catch2/catch.hpp>

#include <fstream>

#include "tests/e2e/fake_ca.hpp"
#include "tests/e2e/fake_jetstream.hpp"
#include "tests/e2e/fake_relay.hpp"
#include "tests/e2e/harness.hpp"
#include "tests/e2e/ingest_support.hpp"

using namespace labeler;
using namespace labeler::e2e;
using namespace labeler::e2e::ingest;
using labeler::testing::fake_jetstream;
using labeler::testing::fake_relay;
using labeler::testing::binary_frame;
using labeler::testing::test_ca;
using labeler::testing::text_frame;
using labeler::testing::tls_identity;
namespace js = labeler::testing::jetstream_json;
namespace fh = labeler::testing::firehose;

namespace {

constexpr std::uint64_t t0 = 1'764'000'000'000'000;
const std::string tls_error = "reason=\"tls_error\"";

std::string did(const char* who) { return fmt::format("did:plc:{}xxxxxxxxxxxxxxxxxxxxx", who); }

// Writes the key, dir/ca.pem and a profile for wss://localhost:PORT that trusts `ca` through
// source.ca_file, then boots the binary.
std::unique_ptr<labeler_process> start_labeler(const temp_dir& dir, const test_ca& ca,
                                               const labeler::testing::fake_stream_server& server,
                                               profile_options o) {
    write_key(dir.path());
    const auto ca_file = dir.path() / "ca.pem";
    std::ofstream(ca_file) << ca.cert_pem();
    o.urls = {server.url("localhost")};
    auto profile = write_profile(dir.path(), o);
    patch_source(profile, fmt::format("ca_file = \"{}\"\nbackoff_initial_ms = 10\n"
                                      "backoff_max_ms = 200",
                                      ca_file.string()));
    return labeler_process::start(profile);
}

// The server presents `served`; the labeler trusts only `trusted` (and the system store).
void check_refused(const test_ca& trusted, tls_identity served, std::string_view why) {
    temp_dir dir;
    fake_jetstream server({}, false, std::move(served));
    profile_options o;
    server.push(text_frame(t0, js::follow(did("alice"), t0, "3a1", o.did)));
    auto proc = start_labeler(dir, trusted, server, o);
    const auto port = proc->port();
    bool counted = eventually([&] { return metric(port, "labeler_source_reconnects_total",
                                                  tls_error) >= 3; });
    INFO(proc->log());
    REQUIRE(counted);
    CHECK(proc->running());
    CHECK(http_get(port, "/xrpc/_health").status == 200);
    CHECK(query_all(port).empty());
    CHECK(metric(port, "labeler_source_frames_total") == 0);
    CHECK(metric(port, "labeler_source_connected") == 0);
    CHECK(server.connections() == 0);  // no WebSocket handshake ever reached the server
    CHECK(server.frames_sent() == 0);
    CHECK(proc->log().find("certificate verify failed") != std::string::npos);
    CHECK(proc->log().find(why) != std::string::npos);  // the log says why
    REQUIRE(proc->terminate() == 0);
}

}  // namespace

TEST_CASE("jetstream over wss with the CA in source.ca_file labels the followers") {
    temp_dir dir;
    test_ca ca;
    fake_jetstream server({}, false, ca.issue({"DNS:localhost", "IP:127.0.0.1"}));
    profile_options o;
    server.push({text_frame(t0, js::follow(did("alice"), t0, "3a1", o.did)),
                 text_frame(t0 + 1, js::follow(did("bob"), t0 + 1, "3b1", o.did)),
                 text_frame(t0 + 2, js::follow(did("carol"), t0 + 2, "3c1", did("alice"))),
                 text_frame(t0 + 3, js::follow(did("dave"), t0 + 3, "3d1", o.did))});
    const std::set<std::string> expected{did("alice"), did("bob"), did("dave")};
    auto proc = start_labeler(dir, ca, server, o);
    const auto port = proc->port();
    bool labelled = eventually([&] { return holders(effective(query_all(port))) == expected; });
    INFO(proc->log());
    REQUIRE(labelled);
    CHECK(metric(port, "labeler_source_connected") == 1);
    CHECK(metric(port, "labeler_source_reconnects_total", tls_error) == 0);
    CHECK(server.connections() == 1);
    REQUIRE(proc->terminate() == 0);
}

TEST_CASE("jetstream over wss refuses a certificate from a CA that is not trusted") {
    test_ca trusted, rogue("rogue CA");
    check_refused(trusted, rogue.issue({"DNS:localhost", "IP:127.0.0.1"}),
                  "unable to get local issuer certificate");
}

TEST_CASE("jetstream over wss refuses a certificate that does not name the host") {
    test_ca ca;
    check_refused(ca, ca.issue({"DNS:example.invalid"}), "hostname mismatch");
}

TEST_CASE("firehose over wss with the CA in source.ca_file labels the followers") {
    temp_dir dir;
    test_ca ca;
    fake_relay relay({}, false, ca.issue({"DNS:localhost", "IP:127.0.0.1"}));
    profile_options o;
    o.source_kind = "firehose";
    const std::vector<fh::op> follow_us{{"create", "app.bsky.graph.follow", "3a1", o.did}};
    const std::vector<fh::op> follow_other{{"create", "app.bsky.graph.follow", "3c1", did("alice")}};
    const std::vector<fh::op> unfollow{{"delete", "app.bsky.graph.follow", "3a1", std::nullopt}};
    relay.push({binary_frame(1, fh::commit(1, did("alice"), follow_us)),
                binary_frame(2, fh::commit(2, did("bob"), follow_us)),
                binary_frame(3, fh::commit(3, did("carol"), follow_other)),
                binary_frame(4, fh::commit(4, did("bob"), unfollow))});
    auto proc = start_labeler(dir, ca, relay, o);
    const auto port = proc->port();
    bool labelled = eventually([&] {
        return holders(effective(query_all(port))) == std::set<std::string>{did("alice")} &&
               metric(port, "labeler_pipeline_labels_negated_total") == 1;
    });
    INFO(proc->log());
    REQUIRE(labelled);
    CHECK(metric(port, "labeler_source_connected") == 1);
    CHECK(metric(port, "labeler_source_reconnects_total", tls_error) == 0);
    CHECK(relay.connections() == 1);
    REQUIRE(proc->terminate() == 0);
}

TEST_CASE("firehose over wss refuses a certificate that does not name the host") {
    temp_dir dir;
    test_ca ca;
    fake_relay relay({}, false, ca.issue({"DNS:example.invalid"}));
    profile_options o;
    o.source_kind = "firehose";
    const std::vector<fh::op> follow_us{{"create", "app.bsky.graph.follow", "3a1", o.did}};
    relay.push(binary_frame(1, fh::commit(1, did("alice"), follow_us)));
    auto proc = start_labeler(dir, ca, relay, o);
    const auto port = proc->port();
    bool counted = eventually([&] { return metric(port, "labeler_source_reconnects_total",
                                                  tls_error) >= 2; });
    INFO(proc->log());
    REQUIRE(counted);
    CHECK(proc->running());
    CHECK(query_all(port).empty());
    CHECK(relay.connections() == 0);
    CHECK(proc->log().find("hostname mismatch") != std::string::npos);
    REQUIRE(proc->terminate() == 0);
}
