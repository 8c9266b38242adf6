#include <catch2/catch.hpp>
#include <random>
#include <string>
#include <vector>

#include "src/atproto/base32.hpp"
#include "src/atproto/base58.hpp"
#include "src/atproto/base64.hpp"
#include "src/atproto/sha256.hpp"
#include "src/atproto/varint.hpp"
#include "tests/atproto/test_util.hpp"

using namespace labeler::atproto;
using labeler::test::hex;
using labeler::test::slurp;

namespace {

std::vector<std::uint8_t> bytes_of(std::string_view s) {
    return {s.begin(), s.end()};
}

std::vector<std::vector<std::uint8_t>> random_inputs() {
    std::mt19937 rng(42);
    std::vector<std::vector<std::uint8_t>> v;
    for (int len = 0; len < 70; ++len) {
        for (int k = 0; k < 4; ++k) {
            std::vector<std::uint8_t> b(len);
            for (auto& x : b) x = std::uint8_t(rng());
            if (k == 1 && len > 0) b[0] = 0;  // leading zeros matter for base58
            if (k == 2 && len > 1) b[0] = b[1] = 0;
            v.push_back(b);
        }
    }
    return v;
}

}  // namespace

TEST_CASE("sha256 matches known digests", "[sha256]") {
    CHECK(hex(sha256(std::string_view(""))) ==
          "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(hex(sha256(std::string_view("abc"))) ==
          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("base64_append appends to what is there", "[base64]") {
    std::string out = "x:";
    const std::uint8_t data[] = {'f', 'o', 'o', 'b'};
    base64_append(out, data);
    CHECK(out == "x:Zm9vYg");
    base64_append(out, std::span<const std::uint8_t>(data, 2), true);
    CHECK(out == "x:Zm9vYgZm8=");
}

TEST_CASE("base64 RFC 4648 vectors, padded and unpadded", "[base64]") {
    const std::pair<const char*, const char*> vectors[] = {{"", ""},
                                                           {"f", "Zg=="},
                                                           {"fo", "Zm8="},
                                                           {"foo", "Zm9v"},
                                                           {"foob", "Zm9vYg=="},
                                                           {"fooba", "Zm9vYmE="},
                                                           {"foobar", "Zm9vYmFy"}};
    for (auto [plain, enc] : vectors) {
        CHECK(base64_encode(std::string_view(plain), true) == enc);
        std::string unpadded(enc);
        while (!unpadded.empty() && unpadded.back() == '=') unpadded.pop_back();
        CHECK(base64_encode(std::string_view(plain)) == unpadded);
        auto a = base64_decode(enc);
        REQUIRE(a);
        CHECK(*a == bytes_of(plain));
        auto b = base64_decode(unpadded);
        REQUIRE(b);
        CHECK(*b == bytes_of(plain));
    }
    // The $bytes example from protocol.md §1 decodes to a 64-byte signature.
    auto sig = base64_decode(
        "uCRNA5mTzh078T5xZtkvLEt/O+z0gsKM3aqRI/lVAB8ZtbMnznwS/JwHopZE40JhNNDj80z8gsDLAp/hWqG5Pg");
    REQUIRE(sig);
    CHECK(hex(*sig) ==
          "b8244d039993ce1d3bf13e7166d92f2c4b7f3becf482c28cddaa9123f955001f"
          "19b5b327ce7c12fc9c07a29644e3426134d0e3f34cfc82c0cb029fe15aa1b93e");
}

TEST_CASE("base64 round-trips random data", "[base64]") {
    for (const auto& b : random_inputs()) {
        for (bool pad : {false, true}) {
            auto d = base64_decode(base64_encode(b, pad));
            REQUIRE(d);
            CHECK(*d == b);
        }
    }
}

TEST_CASE("base64 rejects malformed input with a clear error", "[base64]") {
    auto bad = [](std::string_view s, std::string_view needle) {
        auto r = base64_decode(s);
        INFO(s);
        REQUIRE_FALSE(r);
        CHECK_THAT(r.error().message, Catch::Contains(std::string(needle)));
    };
    bad("Zm9v!", "invalid character");
    bad("Zm9v-_", "invalid character");  // base64url is not accepted
    bad("Zm 9v", "offset 2");
    bad("Z", "invalid length");
    bad("Zm9vY", "invalid length");
    bad("Zh==", "trailing bits");  // 'h' leaves non-zero bits after 'f'
    bad("Zm9=", "trailing bits");
    bad("Zg=", "padding");  // padded but not a multiple of 4
    bad("Zg===", "padding");
    bad("Z=g=", "unexpected '='");
}

TEST_CASE("base58btc vectors and leading zeros", "[base58]") {
    CHECK(base58btc_encode(std::string_view("")) == "");
    CHECK(base58btc_encode(std::string_view("hello world")) == "StV1DL6CwTryKyV");
    const std::uint8_t z[] = {0, 0, 0x28, 0x7f, 0xb4, 0xcd};
    CHECK(base58btc_encode(z) == "11233QC4");
    auto d = base58btc_decode("11233QC4");
    REQUIRE(d);
    CHECK(*d == std::vector<std::uint8_t>(std::begin(z), std::end(z)));
    auto zeros = base58btc_decode("111");
    REQUIRE(zeros);
    CHECK(*zeros == std::vector<std::uint8_t>(3, 0));
    for (const auto& b : random_inputs()) {
        auto r = base58btc_decode(base58btc_encode(b));
        REQUIRE(r);
        CHECK(*r == b);
    }
}

TEST_CASE("base58btc rejects excluded and foreign characters", "[base58]") {
    for (std::string_view s : {"abc0", "abcO", "abcI", "abcl"}) {
        auto r = base58btc_decode(s);
        REQUIRE_FALSE(r);
        CHECK_THAT(r.error().message, Catch::Contains("offset 3") && Catch::Contains("excluded"));
    }
    auto r = base58btc_decode("ab+c");
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message, Catch::Contains("'+'"));
    r = base58btc_decode(std::string_view("ab\xff", 3));
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message, Catch::Contains("0xff"));
    CHECK_FALSE(base58btc_decode(std::string(max_base58_input + 1, '2')));
}

TEST_CASE("base32 lowercase unpadded vectors", "[base32]") {
    const std::pair<const char*, const char*> vectors[] = {{"", ""},
                                                           {"f", "my"},
                                                           {"fo", "mzxq"},
                                                           {"foo", "mzxw6"},
                                                           {"foob", "mzxw6yq"},
                                                           {"fooba", "mzxw6ytb"},
                                                           {"foobar", "mzxw6ytboi"}};
    for (auto [plain, enc] : vectors) {
        CHECK(base32_encode(std::string_view(plain)) == enc);
        auto d = base32_decode(enc);
        REQUIRE(d);
        CHECK(*d == bytes_of(plain));
    }
    for (const auto& b : random_inputs()) {
        auto r = base32_decode(base32_encode(b));
        REQUIRE(r);
        CHECK(*r == b);
    }
}

TEST_CASE("base32 rejects malformed input", "[base32]") {
    auto bad = [](std::string_view s, std::string_view needle) {
        auto r = base32_decode(s);
        INFO(s);
        REQUIRE_FALSE(r);
        CHECK_THAT(r.error().message, Catch::Contains(std::string(needle)));
    };
    bad("MZXW6", "uppercase");
    bad("mzxw1", "invalid character '1'");
    bad("my======", "invalid character '='");
    bad("m", "invalid length");
    bad("mzx", "invalid length");
    bad("mz", "trailing bits");
}

TEST_CASE("varint round-trips and rejects bad encodings", "[varint]") {
    for (std::uint64_t v : {0ull, 1ull, 127ull, 128ull, 255ull, 300ull, 0xe7ull, 0x1200ull,
                            16383ull, 16384ull, (1ull << 63) - 1}) {
        std::string s;
        put_uvarint(s, v);
        std::span<const std::uint8_t> in(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
        auto r = read_uvarint(in);
        REQUIRE(r);
        CHECK(*r == v);
        CHECK(in.empty());
    }
    std::string s;
    put_uvarint(s, 0xe7);
    CHECK(s == "\xe7\x01");
    s.clear();
    put_uvarint(s, 0x1200);
    CHECK(s == "\x80\x24");

    auto read = [](std::vector<std::uint8_t> b) {
        std::span<const std::uint8_t> in(b);
        auto r = read_uvarint(in);
        if (!r) CHECK(in.size() == b.size());  // unchanged on error
        return r;
    };
    CHECK(read({0x80, 0x00}).error().message == "varint: non-minimal encoding");
    CHECK(read({0xff, 0x80, 0x00}).error().message == "varint: non-minimal encoding");
    CHECK(read({0x80}).error().message == "varint: truncated");
    CHECK_FALSE(read({}));
    CHECK_THAT(read(std::vector<std::uint8_t>(9, 0xff)).error().message,
               Catch::Contains("longer than 9"));
    CHECK_THAT(read({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}).error().message,
               Catch::Contains("longer than 9"));
    // Trailing data is left for the caller.
    std::vector<std::uint8_t> two{0x05, 0x06};
    std::span<const std::uint8_t> in(two);
    CHECK(*read_uvarint(in) == 5);
    CHECK(in.size() == 1);
}
