// Single-value syntax checks used by the profile loader.
#include "src/atproto/syntax.hpp"
#include "src/config/validate.hpp"

#include <catch2/catch.hpp>

using namespace labeler::config;
using namespace std::chrono_literals;

TEST_CASE("labeler DIDs") {
    CHECK_FALSE(check_labeler_did("did:plc:randomlabelerdevelopment"));
    CHECK_FALSE(check_labeler_did("did:plc:ar7c4by46qjdydhdevvrndac"));
    CHECK_FALSE(check_labeler_did("did:web:labeler.example.com"));
    CHECK_FALSE(check_labeler_did("did:web:localhost%3A8080"));
    CHECK(check_labeler_did("did:foo"));
    CHECK(check_labeler_did("did:plc:"));
    CHECK(check_labeler_did("did:plc:ar7c4by46qjdydhdevvrnda1"));  // '1' is not base32
    CHECK(check_labeler_did("did:plc:AR7C4BY46QJDYDHDEVVRNDAC"));  // upper case
    CHECK(check_labeler_did("did:PLC:ar7c4by46qjdydhdevvrndac"));
    CHECK(check_labeler_did("DID:plc:ar7c4by46qjdydhdevvrndac"));
    CHECK(check_labeler_did("did:web:example.com:"));
    CHECK(check_labeler_did("did:web:nodot"));
    CHECK(check_labeler_did("did:web:example.com%3A443"));
    CHECK(check_labeler_did("did:example:123"));
    CHECK(check_labeler_did("did:plc:ar7c4by46qjdydhdevvrndac extra"));
    CHECK(check_labeler_did(""));
}

TEST_CASE("label ids are what the Bluesky app displays") {
    CHECK_FALSE(check_label_id("daikichi"));
    CHECK_FALSE(check_label_id("good-luck"));
    CHECK(check_label_id(""));
    CHECK(check_label_id("kyo1"));
    CHECK(check_label_id("Kyo"));
    CHECK(check_label_id("kyo_"));
    CHECK(check_label_id("!hide"));
    CHECK(check_label_id("-kyo"));
    CHECK(check_label_id("kyo-"));
    CHECK(check_label_id("ky o"));
    CHECK(check_label_id("大吉"));
    CHECK_FALSE(check_label_id(std::string(100, 'a')));
    CHECK(check_label_id(std::string(101, 'a')));
}

TEST_CASE("environment names, language tags and texts") {
    CHECK_FALSE(check_environment("staging-2"));
    CHECK(check_environment("Staging"));
    CHECK(check_environment("a b"));
    CHECK(check_environment(""));
    CHECK_FALSE(check_lang("ja"));
    CHECK_FALSE(check_lang("pt-BR"));
    CHECK_FALSE(check_lang("zh-Hant-TW"));
    CHECK(check_lang("j"));
    CHECK(check_lang("english"));
    CHECK(check_lang("en-"));
    CHECK(check_lang("en_US"));
    CHECK_FALSE(check_text("大吉", 64, 640));
    std::string name;
    for (int i = 0; i < 64; ++i) name += "吉";  // 64 characters, 192 bytes
    CHECK_FALSE(check_text(name, 64, 640));
    CHECK(check_text(name + "吉", 64, 640));
    CHECK(check_text("", 64, 640));
    CHECK(check_text(" \t", 64, 640));
    CHECK(check_text(std::string(20, 'x'), 64, 10));
}

TEST_CASE("WebSocket URLs") {
    CHECK_FALSE(check_ws_url("wss://jetstream1.us-east.bsky.network/subscribe"));
    CHECK_FALSE(check_ws_url("ws://127.0.0.1:6008/subscribe"));
    CHECK_FALSE(check_ws_url("ws://[::1]:6008/subscribe?compress=true"));
    CHECK_FALSE(check_ws_url("wss://bsky.network"));
    CHECK(check_ws_url("https://bsky.network"));
    CHECK(check_ws_url("wss://"));
    CHECK(check_ws_url("wss://:443/x"));
    CHECK(check_ws_url("wss://host:0/x"));
    CHECK(check_ws_url("wss://host:x/x"));
    CHECK(check_ws_url("wss://host/a b"));
    CHECK(check_ws_url("wss://host/#frag"));
    CHECK(check_ws_url("wss://user:pw@host/"));
    CHECK(check_ws_url("ws://[::1/x"));
}

TEST_CASE("listen addresses") {
    auto v4 = parse_listen("0.0.0.0:443");
    REQUIRE(v4.has_value());
    CHECK(v4->host == "0.0.0.0");
    CHECK(v4->port == 443);
    auto v6 = parse_listen("[::]:0");
    REQUIRE(v6.has_value());
    CHECK(v6->host == "::");
    CHECK(v6->port == 0);
    auto lh = parse_listen("localhost:65535");
    REQUIRE(lh.has_value());
    CHECK(lh->host == "127.0.0.1");
    CHECK(lh->port == 65535);
    CHECK_FALSE(parse_listen("1.2.3.4").has_value());
    CHECK(parse_listen("1.2.3.4").error().message == "\"1.2.3.4\" needs HOST:PORT");
    CHECK_FALSE(parse_listen(":8080").has_value());
    CHECK_FALSE(parse_listen("1.2.3.4:").has_value());
    CHECK_FALSE(parse_listen("1.2.3.4:65536").has_value());
    CHECK_FALSE(parse_listen("1.2.3.4:+80").has_value());
    CHECK_FALSE(parse_listen("1.2.3:80").has_value());
    CHECK_FALSE(parse_listen("[::1]").has_value());
    CHECK_FALSE(parse_listen("[::1]8080").has_value());
    CHECK_FALSE(parse_listen("[1.2.3.4]:80").has_value());
    CHECK_FALSE(parse_listen("example.com:80").has_value());
    CHECK_FALSE(parse_listen("").has_value());
}

TEST_CASE("listen collisions") {
    auto a = [](std::string h, std::uint16_t p) { return listen_address{std::move(h), p}; };
    CHECK(listen_collides(a("127.0.0.1", 8080), a("127.0.0.1", 8080)));
    CHECK(listen_collides(a("0.0.0.0", 8080), a("127.0.0.1", 8080)));
    CHECK(listen_collides(a("::1", 8080), a("::", 8080)));
    CHECK_FALSE(listen_collides(a("127.0.0.1", 8080), a("127.0.0.1", 8081)));
    CHECK_FALSE(listen_collides(a("127.0.0.1", 8080), a("10.0.0.1", 8080)));
    CHECK_FALSE(listen_collides(a("127.0.0.1", 0), a("127.0.0.1", 0)));
}

TEST_CASE("reroll times") {
    CHECK(parse_daily_at("00:00") == 0min);
    CHECK(parse_daily_at("23:59") == std::chrono::minutes(23 * 60 + 59));
    CHECK_FALSE(parse_daily_at("24:00"));
    CHECK_FALSE(parse_daily_at("12:60"));
    CHECK_FALSE(parse_daily_at("1:00"));
    CHECK_FALSE(parse_daily_at("12.00"));
    CHECK(parse_every("24h") == 24h);
    CHECK(parse_every("90m") == 90min);
    CHECK(parse_every("30s") == 30s);
    CHECK_FALSE(parse_every("0s"));
    CHECK_FALSE(parse_every("05m"));
    CHECK_FALSE(parse_every("1d"));
    CHECK_FALSE(parse_every("h"));
    CHECK_FALSE(parse_every("-1h"));
    CHECK_FALSE(parse_every("1.5h"));
    CHECK_FALSE(parse_every("100000h"));
    CHECK(parse_utc_offset("+09:00") == 540min);
    CHECK(parse_utc_offset("-03:30") == -210min);
    CHECK(parse_utc_offset("+00:00") == 0min);
    CHECK(parse_utc_offset("+14:00") == 840min);
    CHECK_FALSE(parse_utc_offset("+14:01"));
    CHECK_FALSE(parse_utc_offset("09:00"));
    CHECK_FALSE(parse_utc_offset("+9:00"));
    CHECK_FALSE(parse_utc_offset("Z"));
    CHECK_FALSE(parse_utc_offset("+09:60"));
}

TEST_CASE("label id and DID checks agree with the atproto syntax module") {
    for (const char* id : {"daikichi", "good-luck", "kyo1", "Kyo", "-kyo", "kyo-", "", "a_b"})
        CHECK(!check_label_id(id).has_value() == labeler::atproto::is_valid_label_value(id));
    // Every DID a profile accepts is a syntactically valid DID.
    for (const char* did : {"did:plc:randomlabelerdevelopment", "did:web:labeler.example.com",
                            "did:web:localhost%3A8080"}) {
        CHECK_FALSE(check_labeler_did(did).has_value());
        CHECK(labeler::atproto::is_valid_did(did));
    }
    for (const char* did : {"did:foo", "did:", "did:plc", "did:plc:abc:", "x"})
        CHECK(check_labeler_did(did).has_value());
}
