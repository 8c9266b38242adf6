// Signing and verification: atproto interop signature fixtures (both curves, high-S and DER
// rejected), did:key derivation, determinism and low-S output.
#include <algorithm>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <thread>

#include "src/atproto/base64.hpp"
#include "src/atproto/crypto.hpp"
#include "src/atproto/multikey.hpp"
#include "tests/label/fixtures.hpp"

using namespace labeler::atproto;
namespace json = boost::json;
using labeler::test::data_path;
using labeler::test::read_text;

namespace {

// secp256k1 group order n (big-endian).
constexpr std::array<std::uint8_t, 32> k256_n = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
    0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41};

// Returns the same signature with s replaced by n - s (the malleable high-S twin).
signature high_s_twin(const signature& sig, const std::array<std::uint8_t, 32>& n) {
    signature out = sig;
    int borrow = 0;
    for (int i = 31; i >= 0; --i) {
        int d = int(n[i]) - int(sig[32 + i]) - borrow;
        borrow = d < 0;
        out[32 + i] = std::uint8_t(d + (borrow ? 256 : 0));
    }
    return out;
}

bool is_low_s(const signature& sig) {
    // s <= n/2  <=>  2s <= n; compare the top byte is not enough, so compare 2s with n.
    std::array<std::uint8_t, 33> twice{};
    unsigned carry = 0;
    for (int i = 31; i >= 0; --i) {
        unsigned v = unsigned(sig[32 + i]) * 2 + carry;
        twice[i + 1] = std::uint8_t(v);
        carry = v >> 8;
    }
    twice[0] = std::uint8_t(carry);
    std::array<std::uint8_t, 33> n33{};
    std::copy(k256_n.begin(), k256_n.end(), n33.begin() + 1);
    return twice <= n33;
}

}  // namespace

TEST_CASE("interop signature fixtures: valid verify, high-S and DER rejected", "[crypto]") {
    const json::value doc = json::parse(read_text(data_path("signature-fixtures.json")));
    int valid = 0, invalid = 0, k256 = 0, p256 = 0;
    for (const auto& f : doc.as_array()) {
        const auto& o = f.as_object();
        const std::string comment(o.at("comment").as_string());
        INFO(comment);
        auto key = parse_did_key(std::string_view(o.at("publicKeyDid").as_string()));
        REQUIRE(key);
        const std::string alg(o.at("algorithm").as_string());
        CHECK(key->crv == (alg == "ES256K" ? curve::k256 : curve::p256));
        (key->crv == curve::k256 ? k256 : p256)++;
        auto msg = base64_decode(std::string_view(o.at("messageBase64").as_string()));
        auto sig = base64_decode(std::string_view(o.at("signatureBase64").as_string()));
        REQUIRE(msg);
        REQUIRE(sig);
        const bool expect = o.at("validSignature").as_bool();
        CHECK(verify(*key, *msg, *sig) == expect);
        (expect ? valid : invalid)++;
    }
    CHECK(valid == 2);
    CHECK(invalid == 4);
    CHECK(k256 == 3);
    CHECK(p256 == 3);
}

TEST_CASE("valid fixture signatures fail when message, signature or key change", "[crypto]") {
    const json::value doc = json::parse(read_text(data_path("signature-fixtures.json")));
    for (const auto& f : doc.as_array()) {
        const auto& o = f.as_object();
        if (!o.at("validSignature").as_bool()) continue;
        INFO(std::string(o.at("comment").as_string()));
        auto key = *parse_did_key(std::string_view(o.at("publicKeyDid").as_string()));
        auto msg = *base64_decode(std::string_view(o.at("messageBase64").as_string()));
        auto sig = *base64_decode(std::string_view(o.at("signatureBase64").as_string()));
        REQUIRE(verify(key, msg, sig));
        auto m2 = msg;
        m2.back() ^= 1;
        CHECK_FALSE(verify(key, m2, sig));
        for (std::size_t i : {std::size_t(0), std::size_t(31), std::size_t(32), std::size_t(63)}) {
            auto s2 = sig;
            s2[i] ^= 0x01;
            CHECK_FALSE(verify(key, msg, s2));
        }
        auto k2 = key;
        k2.compressed[0] ^= 1;  // the other point with the same X
        CHECK_FALSE(verify(k2, msg, sig));
        auto k3 = key;
        k3.crv = key.crv == curve::k256 ? curve::p256 : curve::k256;
        CHECK_FALSE(verify(k3, msg, sig));
        std::vector<std::uint8_t> shorter(sig.begin(), sig.end() - 1);
        CHECK_FALSE(verify(key, msg, shorter));
        std::vector<std::uint8_t> zeros(64, 0);
        CHECK_FALSE(verify(key, msg, zeros));
        public_key bogus = key;
        bogus.compressed.fill(0);
        CHECK_FALSE(verify(bogus, msg, sig));
    }
}

TEST_CASE("w3c did:key fixtures: private keys derive the published did:key", "[crypto]") {
    const json::value doc = json::parse(read_text(data_path("w3c_didkey_K256.json")));
    int n = 0;
    for (const auto& f : doc.as_array()) {
        const auto& o = f.as_object();
        auto k = private_key::from_hex(std::string_view(o.at("privateKeyBytesHex").as_string()));
        REQUIRE(k);
        CHECK(k->did_key() == std::string_view(o.at("publicDidKey").as_string()));
        CHECK(k->to_hex() == std::string_view(o.at("privateKeyBytesHex").as_string()));
        ++n;
    }
    CHECK(n == 5);
}

TEST_CASE("signing is deterministic, low-S, and verifies; its high-S twin does not", "[crypto]") {
    auto key =
        private_key::from_hex("9085d2bef69286a6cbb51623c8fa258629945cd55ca705cc4e66700396894e0c");
    REQUIRE(key);
    for (int i = 0; i < 64; ++i) {
        const std::string msg = "message number " + std::to_string(i);
        const signature a = key->sign(msg);
        CHECK(a == key->sign(msg));
        CHECK(is_low_s(a));
        const auto bytes = std::span<const std::uint8_t>(
            reinterpret_cast<const std::uint8_t*>(msg.data()), msg.size());
        CHECK(verify(key->pub(), bytes, a));
        const signature hi = high_s_twin(a, k256_n);
        CHECK_FALSE(is_low_s(hi));
        CHECK_FALSE(verify(key->pub(), bytes, hi));
    }
}

TEST_CASE("generated keys are distinct and usable", "[crypto]") {
    const private_key a = private_key::generate();
    const private_key b = private_key::generate();
    CHECK(a.to_hex() != b.to_hex());
    CHECK(a.did_key().starts_with("did:key:zQ3s"));
    auto again = private_key::from_hex(a.to_hex());
    REQUIRE(again);
    CHECK(again->did_key() == a.did_key());
    const signature s = a.sign("hello");
    const std::string m = "hello";
    auto bytes = std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(m.data()), 5);
    CHECK(verify(a.pub(), bytes, s));
    CHECK_FALSE(verify(b.pub(), bytes, s));
}

TEST_CASE("from_hex rejects malformed and out-of-range scalars", "[crypto]") {
    CHECK_FALSE(private_key::from_hex(""));
    CHECK_FALSE(private_key::from_hex(std::string(63, 'a')));
    CHECK_FALSE(private_key::from_hex(std::string(65, 'a')));
    CHECK_FALSE(private_key::from_hex(std::string(63, 'a') + "g"));
    auto zero = private_key::from_hex(std::string(64, '0'));
    REQUIRE_FALSE(zero);
    CHECK(zero.error().code == int(key_errc::bad_scalar));
    // n itself and all-ones are not below the group order.
    CHECK_FALSE(
        private_key::from_hex("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141"));
    CHECK_FALSE(private_key::from_hex(std::string(64, 'f')));
    CHECK(
        private_key::from_hex("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140"));
    CHECK(
        private_key::from_hex("9085D2BEF69286A6CBB51623C8FA258629945CD55CA705CC4E66700396894E0C"));
}

TEST_CASE("signing from several threads gives the same signatures", "[crypto]") {
    const private_key key = private_key::generate();
    std::vector<signature> expected;
    for (int i = 0; i < 200; ++i) expected.push_back(key.sign("label " + std::to_string(i)));
    std::vector<signature> got_a(200), got_b(200);
    auto work = [&](std::vector<signature>& out) {
        for (int i = 0; i < 200; ++i) out[i] = key.sign("label " + std::to_string(i));
    };
    std::thread a(work, std::ref(got_a));
    std::thread b(work, std::ref(got_b));
    a.join();
    b.join();
    CHECK(got_a == expected);
    CHECK(got_b == expected);
}

TEST_CASE("p256 verification rejects out-of-range r and s", "[crypto]") {
    auto key = parse_did_key("did:key:zDnaembgSGUhZULN2Caob4HLJPaxBh92N7rtH21TErzqf8HQo");
    REQUIRE(key.has_value());
    auto msg = *base64_decode("oWVoZWxsb2V3b3JsZA");
    auto sig = *base64_decode(
        "2vZNsG3UKvvO/CDlrdvyZRISOFylinBh0Jupc6KcWoJWExHptCfduPleDbG3rko3YZnn9Lw0IjpixVmexJDegg");
    REQUIRE(verify(*key, msg, sig));
    auto zero_r = sig;
    std::fill(zero_r.begin(), zero_r.begin() + 32, 0);
    CHECK_FALSE(verify(*key, msg, zero_r));
    auto zero_s = sig;
    std::fill(zero_s.begin() + 32, zero_s.end(), 0);
    CHECK_FALSE(verify(*key, msg, zero_s));
    auto big_r = sig;
    std::fill(big_r.begin(), big_r.begin() + 32, 0xff);
    CHECK_FALSE(verify(*key, msg, big_r));
    // Some other public key (x = 5, whether or not it is on the curve) and a bad prefix byte.
    public_key off = *key;
    off.compressed.fill(0);
    off.compressed[0] = 0x02;
    off.compressed[32] = 0x05;
    CHECK_FALSE(verify(off, msg, sig));
    public_key bad_prefix = *key;
    bad_prefix.compressed[0] = 0x04;
    CHECK_FALSE(verify(bad_prefix, msg, sig));
}
