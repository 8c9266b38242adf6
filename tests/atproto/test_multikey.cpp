#include <catch2/catch.hpp>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "src/atproto/base58.hpp"
#include "src/atproto/multikey.hpp"
#include "tests/atproto/test_util.hpp"

using namespace labeler::atproto;
using labeler::test::hex;
using labeler::test::slurp;

namespace {

// All "did:key:…" strings in a fixture file (the files are flat lists of objects).
std::vector<std::string> did_keys_in(const std::string& path) {
    const std::string text = slurp(path);
    std::vector<std::string> out;
    const std::regex re("\"(did:key:z[1-9A-HJ-NP-Za-km-z]+)\"");
    for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator();
         ++it) {
        out.push_back((*it)[1].str());
    }
    return out;
}

}  // namespace

TEST_CASE("multikey golden vector from protocol.md §2 (indigo label test)", "[multikey]") {
    const std::string mk = "zQ3shcnfWLQN1bY4d2patsEAYFzy4xp1zdckEvHsV7S4ocTnC";
    auto raw = base58btc_decode(std::string_view(mk).substr(1));
    REQUIRE(raw);
    CHECK(hex(*raw) ==
          "e701"
          "02e479e24ce6d3d218fd866ed491b48348b2974162f530f29343f5a73b2476705d");
    auto key = decode_multikey(mk);
    REQUIRE(key);
    CHECK(key->crv == curve::k256);
    CHECK(hex(key->compressed) ==
          "02e479e24ce6d3d218fd866ed491b48348b2974162f530f29343f5a73b2476705d");
    CHECK(encode_multikey(*key) == mk);
    CHECK(to_did_key(*key) == "did:key:" + mk);
}

TEST_CASE("multikey spec examples for both curves round-trip", "[multikey]") {
    auto p = decode_multikey("zDnaembgSGUhZULN2Caob4HLJPaxBh92N7rtH21TErzqf8HQo");
    REQUIRE(p);
    CHECK(p->crv == curve::p256);
    CHECK(encode_multikey(*p) == "zDnaembgSGUhZULN2Caob4HLJPaxBh92N7rtH21TErzqf8HQo");
    auto k = decode_multikey("zQ3shqwJEJyMBsBXCWyCBpUBMqxcon9oHB7mCvx4sSpMdLJwc");
    REQUIRE(k);
    CHECK(k->crv == curve::k256);
    CHECK(encode_multikey(*k) == "zQ3shqwJEJyMBsBXCWyCBpUBMqxcon9oHB7mCvx4sSpMdLJwc");
}

TEST_CASE("did:key interop fixtures parse and re-encode identically", "[multikey]") {
    const std::string dir = LABELER_SOURCE_DIR "/tests/atproto/data/";
    std::size_t k256 = 0, p256 = 0;
    for (const char* file : {"w3c_didkey_K256.json", "w3c_didkey_P256.json"}) {
        for (const auto& did : did_keys_in(dir + file)) {
            INFO(did);
            auto key = parse_did_key(did);
            REQUIRE(key);
            (key->crv == curve::k256 ? k256 : p256)++;
            CHECK(to_did_key(*key) == did);
        }
    }
    CHECK(k256 == 5);
    CHECK(p256 == 1);
}

TEST_CASE("multikey rejects malformed keys with clear errors", "[multikey]") {
    auto bad = [](std::string_view s, std::string_view needle) {
        auto r = decode_multikey(s);
        INFO(s);
        REQUIRE_FALSE(r);
        CHECK_THAT(r.error().message, Catch::Contains(std::string(needle)));
    };
    bad("", "empty");
    bad("uQ3shcnf", "must start with 'z'");
    bad("zQ3shcnfWLQN1bY4d2patsEAYFzy4xp1zdckEvHsV7S4ocTn0", "excluded");
    std::string short_key = "\xe7\x01\x02" + std::string(31, '\x11');
    bad("z" + base58btc_encode(short_key), "key is 32 bytes");
    // ed25519-pub (0xed) is not an atproto curve.
    std::string ed = "\xed\x01" + std::string(32, '\x02');
    bad("z" + base58btc_encode(ed), "unsupported multicodec 0xed");
    // Uncompressed prefix.
    std::string unc = "\xe7\x01\x04" + std::string(32, '\x11');
    bad("z" + base58btc_encode(unc), "not compressed");
    // Non-minimal codec varint.
    std::string nm = std::string("\xe7\x81\x00", 3) + std::string(33, '\x02');
    bad("z" + base58btc_encode(nm), "non-minimal");

    CHECK_FALSE(parse_did_key("did:plc:zQ3shcnfWLQN1bY4d2patsEAYFzy4xp1zdckEvHsV7S4ocTnC"));
    CHECK_FALSE(parse_did_key("zQ3shcnfWLQN1bY4d2patsEAYFzy4xp1zdckEvHsV7S4ocTnC"));
    CHECK(parse_did_key("did:key:zQ3shcnfWLQN1bY4d2patsEAYFzy4xp1zdckEvHsV7S4ocTnC"));
}
