// Labels: the indigo golden vector byte for byte, deterministic signing, JSON rendering,
// validation and strict decoding.
#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "src/atproto/crypto.hpp"
#include "src/atproto/label.hpp"
#include "src/atproto/multikey.hpp"
#include "src/atproto/sha256.hpp"
#include "tests/label/fixtures.hpp"

using namespace labeler::atproto;
using labeler::test::from_hex;
using labeler::test::to_hex;
using labeler::test::to_hex_bytes;

namespace {

// bluesky-social/indigo atproto/labeling/label_test.go TestVerifyLabel (protocol.md §2).
constexpr const char* vector_key = "zQ3shcnfWLQN1bY4d2patsEAYFzy4xp1zdckEvHsV7S4ocTnC";
constexpr const char* vector_cbor =
    "a5636374737818323032342d31302d32335431373a35313a31392e3132385a"
    "6373726378206469643a706c633a6e3374696d766f6962356e61753767767764366373686170"
    "6375726978206469643a706c633a343479626172643636767634347a6b736a6532356f37647a"
    "6376616c6b626c61646572756e6e6572"
    "6376657201";
constexpr const char* vector_sha256 =
    "a133884893b7a7e4a21c44b9708b0d3cb9c2fff041f12b6ec52ff92fad6b5ad7";
constexpr const char* vector_sig =
    "b8244d039993ce1d3bf13e7166d92f2c4b7f3becf482c28cddaa9123f955001f"
    "19b5b327ce7c12fc9c07a29644e3426134d0e3f34cfc82c0cb029fe15aa1b93e";
// w3c did:key fixture key #1, and the signature @atproto/crypto 0.4.5 (noble, RFC 6979) makes
// with it over vector_cbor (computed with tests/interop's node_modules).
constexpr const char* fixed_key =
    "9085d2bef69286a6cbb51623c8fa258629945cd55ca705cc4e66700396894e0c";
constexpr const char* fixed_key_sig =
    "b0b3ff3ecdc861ba8bda664fb59f3ec1a3704cb0f3bae8825b761da665bef1ff"
    "0eba634414f561808d4e0d01458db2bfe4b1f39b34f70a7cb520f1732176562e";

label vector_label() {
    label l;
    l.src = "did:plc:n3timvoib5nau7gvwd6cshap";
    l.uri = "did:plc:44ybard66vv44zksje25o7dz";
    l.val = "bladerunner";
    l.cts = "2024-10-23T17:51:19.128Z";
    return l;
}

std::span<const std::uint8_t> as_bytes(const std::string& s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

signature sig_from_hex(const char* hex) {
    signature s{};
    const auto v = from_hex(hex);
    REQUIRE(v.size() == 64);
    std::copy(v.begin(), v.end(), s.begin());
    return s;
}

label full_label(const private_key& key) {
    label l;
    l.src = "did:plc:labeler";
    l.uri = "at://did:plc:alice/app.bsky.feed.post/3jzfcijpj2z2a";
    l.cid = "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm";
    l.val = "kyo";
    l.neg = true;
    l.cts = "2026-11-29T10:41:51.304Z";
    l.exp = "2027-11-29T10:41:51.304Z";
    l.sig = key.sign(signing_bytes(l));
    return l;
}

}  // namespace

TEST_CASE("golden vector: CBOR bytes, sha256 and the published signature", "[label]") {
    const label l = vector_label();
    const std::string bytes = signing_bytes(l);
    CHECK(to_hex(bytes) == vector_cbor);
    CHECK(to_hex_bytes(sha256(bytes)) == vector_sha256);
    auto key = decode_multikey(vector_key);
    REQUIRE(key);
    CHECK(key->crv == curve::k256);
    const signature sig = sig_from_hex(vector_sig);
    CHECK(verify(*key, as_bytes(bytes), sig));

    // The same label without `ver` does not verify: ver is inside the signed bytes.
    std::string without_ver = bytes;
    without_ver[0] = char(0xa4);
    without_ver.resize(without_ver.size() - 4);  // drop 63 766572 01
    CHECK_FALSE(verify(*key, as_bytes(without_ver), sig));
    // Nor does it verify with neg:false present, or with another value.
    label with_neg = l;
    with_neg.neg_present = true;
    CHECK_FALSE(verify(*key, as_bytes(signing_bytes(with_neg)), sig));
    label other = l;
    other.val = "bladerunnex";
    CHECK_FALSE(verify(*key, as_bytes(signing_bytes(other)), sig));
}

TEST_CASE("golden vector: encode_cbor with sig decodes back and verifies", "[label]") {
    label l = vector_label();
    l.sig = sig_from_hex(vector_sig);
    const std::string full = encode_cbor(l);
    CHECK(full.size() == signing_bytes(l).size() + 4 + 2 + 64);
    CHECK(static_cast<unsigned char>(full[0]) == 0xa6);
    auto back = decode_cbor(full);
    REQUIRE(back);
    CHECK(back->sig == l.sig);
    CHECK(back->ver == 1);
    CHECK(back->val == "bladerunner");
    CHECK_FALSE(back->neg_present);
    CHECK(signing_bytes(*back) == signing_bytes(l));
    CHECK(encode_cbor(*back) == full);
    CHECK(verify(*decode_multikey(vector_key), as_bytes(signing_bytes(*back)), *back->sig));
    std::string appended = "xy";
    append_cbor(appended, l);
    CHECK(appended == "xy" + full);
}

TEST_CASE("our signature of the vector is deterministic and matches @atproto/crypto", "[label]") {
    auto key = private_key::from_hex(fixed_key);
    REQUIRE(key);
    const std::string bytes = signing_bytes(vector_label());
    const signature a = key->sign(bytes);
    CHECK(a == key->sign(bytes));
    CHECK(to_hex_bytes(a) == fixed_key_sig);
    CHECK(verify(key->pub(), as_bytes(bytes), a));
}

TEST_CASE("CBOR field order and optional fields", "[label]") {
    const private_key key = *private_key::from_hex(fixed_key);
    const label l = full_label(key);
    const std::string b = encode_cbor(l);
    CHECK(static_cast<unsigned char>(b[0]) == 0xa9);  // all nine keys
    std::size_t last = 0;
    for (const char* k : {"cid", "cts", "exp", "neg", "sig", "src", "uri", "val", "ver"}) {
        const std::size_t at = b.find(std::string("\x63") + k);
        REQUIRE(at != std::string::npos);
        CHECK(at >= last);
        last = at;
    }
    CHECK(b.find(std::string("\x63neg\xf5")) != std::string::npos);
    // neg omitted when false and not present on the wire; kept as false when it was.
    label pos = l;
    pos.neg = false;
    CHECK(signing_bytes(pos).find("neg") == std::string::npos);
    pos.neg_present = true;
    CHECK(signing_bytes(pos).find(std::string("\x63neg\xf4")) != std::string::npos);
    // signing bytes never contain sig.
    CHECK(signing_bytes(l).find("sig") == std::string::npos);
    CHECK(static_cast<unsigned char>(signing_bytes(l)[0]) == 0xa8);
    // Long strings use longer heads.
    label big = l;
    big.uri = "at://did:plc:alice/app.bsky.feed.post/" + std::string(300, 'a');
    auto back = decode_cbor(encode_cbor(big));
    REQUIRE(back);
    CHECK(back->uri == big.uri);
}

TEST_CASE("round trip through decode_cbor keeps every field", "[label]") {
    const private_key key = *private_key::from_hex(fixed_key);
    const label l = full_label(key);
    auto back = decode_cbor(encode_cbor(l));
    REQUIRE(back);
    CHECK(back->src == l.src);
    CHECK(back->uri == l.uri);
    CHECK(back->cid == l.cid);
    CHECK(back->val == l.val);
    CHECK(back->neg);
    CHECK(back->neg_present);
    CHECK(back->cts == l.cts);
    CHECK(back->exp == l.exp);
    CHECK(back->sig == l.sig);
    CHECK(validate(*back));
    CHECK(verify(key.pub(), as_bytes(signing_bytes(*back)), *back->sig));
}

TEST_CASE("JSON rendering matches com.atproto.label.defs#label", "[label][json]") {
    label l = vector_label();
    l.sig = sig_from_hex(vector_sig);
    CHECK(
        to_json(l) ==
        R"({"ver":1,"src":"did:plc:n3timvoib5nau7gvwd6cshap",)"
        R"("uri":"did:plc:44ybard66vv44zksje25o7dz","val":"bladerunner",)"
        R"("cts":"2024-10-23T17:51:19.128Z","sig":{"$bytes":)"
        R"("uCRNA5mTzh078T5xZtkvLEt/O+z0gsKM3aqRI/lVAB8Z)"
        R"(tbMnznwS/JwHopZE40JhNNDj80z8gsDLAp/hWqG5Pg"}})");
    const private_key key = *private_key::from_hex(fixed_key);
    const label f = full_label(key);
    const std::string j = to_json(f);
    const auto v = boost::json::parse(j).as_object();
    CHECK(v.at("ver").as_int64() == 1);
    CHECK(v.at("cid").as_string() == *f.cid);
    CHECK(v.at("neg").as_bool());
    CHECK(v.at("exp").as_string() == *f.exp);
    CHECK(v.at("sig").as_object().at("$bytes").as_string().size() == 86);  // unpadded
    CHECK(j.find("\"neg\":true") < j.find("\"cts\""));
    label pos = f;
    pos.neg = false;
    pos.neg_present = true;
    CHECK(to_json(pos).find("neg") == std::string::npos);
    label unsigned_label = vector_label();
    CHECK(to_json(unsigned_label).find("sig") == std::string::npos);
    std::string out = "[";
    append_json(out, unsigned_label);
    CHECK(out == "[" + to_json(unsigned_label));
}

TEST_CASE("the zero-copy view decodes and renders exactly like the owning label", "[label][json]") {
    const private_key key = *private_key::from_hex(fixed_key);
    for (const label& l : {full_label(key), vector_label()}) {
        const std::string cbor = encode_cbor(l);
        const auto bytes = std::span<const std::uint8_t>(
            reinterpret_cast<const std::uint8_t*>(cbor.data()), cbor.size());
        auto v = decode_cbor_view(bytes);
        REQUIRE(v.has_value());
        // the strings point into the CBOR, not into copies
        CHECK(v->src.data() >= cbor.data());
        CHECK(v->src.data() < cbor.data() + cbor.size());
        std::string from_view;
        append_json(from_view, *v);
        CHECK(from_view == to_json(*decode_cbor(bytes)));
        CHECK(from_view == to_json(l));
    }
    // the same strictness: an unknown key is refused by both
    std::string bad = encode_cbor(vector_label());
    bad[0] = char(std::uint8_t(bad[0]) + 1);  // one more map entry than present: malformed
    CHECK_FALSE(decode_cbor_view(
        {reinterpret_cast<const std::uint8_t*>(bad.data()), bad.size()}).has_value());
}

TEST_CASE("JSON strings are escaped and stay valid for any bytes", "[label][json]") {
    label l = vector_label();
    l.uri = "at://did:plc:x/\"quoted\"\\back\nline\ttab\x01\x1f";
    l.val = "大吉 ✓ 😀";
    const std::string j = to_json(l);
    CHECK(j.find(R"("uri":"at://did:plc:x/\"quoted\"\\back\nline\ttab\u0001\u001f")") !=
          std::string::npos);
    CHECK(j.find("\"val\":\"大吉 ✓ 😀\"") != std::string::npos);
    auto v = boost::json::parse(j).as_object();
    CHECK(v.at("uri").as_string() == l.uri);
    CHECK(v.at("val").as_string() == l.val);
    // Invalid UTF-8 (lone continuation, overlong, surrogate, truncated) becomes U+FFFD.
    l.val = std::string(
        "a\x80"
        "b\xc0\xaf"
        "c\xed\xa0\x80"
        "d\xe5\x90",
        12);
    const std::string bad = to_json(l);
    boost::json::error_code ec;
    auto parsed = boost::json::parse(bad, ec);
    REQUIRE_FALSE(ec);
    CHECK(parsed.as_object().at("val").as_string().find("\xef\xbf\xbd") !=
          boost::json::string::npos);
}

TEST_CASE("validate enforces the lexicon", "[label][validate]") {
    const private_key key = *private_key::from_hex(fixed_key);
    CHECK(validate(vector_label()));
    CHECK(validate(full_label(key)));
    auto expect_bad = [](label l, const char* what) {
        auto r = validate(l);
        INFO(what);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == int(label_errc::invalid_field));
        CHECK_THAT(r.error().message, Catch::Contains(what));
    };
    label l = vector_label();
    l.ver = 2;
    expect_bad(l, "ver");
    l = vector_label();
    l.src = "plc:abc";
    expect_bad(l, "src");
    l = vector_label();
    l.uri = "https://example.com";
    expect_bad(l, "uri");
    l = vector_label();
    l.uri = "at://did:plc:abc/app.bsky.feed.post/";
    expect_bad(l, "uri");
    l = vector_label();
    l.val = "";
    expect_bad(l, "val");
    l = vector_label();
    l.val = std::string(129, 'a');
    expect_bad(l, "val");
    l = vector_label();
    l.val = std::string(128, 'a');
    CHECK(validate(l));
    l.val = std::string(42, '\0') + "\xff";
    expect_bad(l, "val");
    l = vector_label();
    l.cts = "2024-10-23 17:51:19Z";
    expect_bad(l, "cts");
    l = vector_label();
    l.exp = "2024-10-23T17:51:19.128";
    expect_bad(l, "exp");
    l = vector_label();
    l.cid = "not a cid";
    expect_bad(l, "cid");
    l = vector_label();
    l.uri = "at://did:plc:44ybard66vv44zksje25o7dz/app.bsky.feed.post/3jzfcijpj2z2a";
    l.val = "!hide";  // global values are fine in received labels
    CHECK(validate(l));
}

TEST_CASE("decode_cbor rejects malformed labels", "[label][decode]") {
    const private_key key = *private_key::from_hex(fixed_key);
    const std::string good = encode_cbor(full_label(key));
    REQUIRE(decode_cbor(good));
    auto code_of = [](const std::string& b) {
        auto r = decode_cbor(b);
        return r ? 0 : r.error().code;
    };
    const std::string min = signing_bytes(vector_label());  // a5 cts src uri val ver
    REQUIRE(decode_cbor(min));

    SECTION("trailing bytes") {
        CHECK(code_of(good + std::string(1, '\0')) == int(label_errc::malformed));
        CHECK(code_of(min + min) == int(label_errc::malformed));
    }
    SECTION("truncated at every length") {
        for (std::size_t n = 0; n < good.size(); ++n) {
            INFO(n);
            CHECK(code_of(good.substr(0, n)) != 0);
        }
    }
    SECTION("unknown key") {
        // {…, "zzz": 1} as a sixth key after ver.
        std::string b = min;
        b[0] = char(0xa6);
        b += "\x63zzz\x01";
        CHECK(code_of(b) == int(label_errc::unknown_key));
        std::string t = min;
        t[0] = char(0xa6);
        t += std::string("\x65$type\x61x");
        CHECK(code_of(t) == int(label_errc::unknown_key));
    }
    SECTION("wrong types") {
        std::string ver_text = min;  // ver: "1"
        ver_text.replace(ver_text.size() - 1, 1,
                         "\x61"
                         "1");
        CHECK(code_of(ver_text) == int(label_errc::wrong_type));
        std::string val_bytes = min;  // val as a byte string
        const auto at = val_bytes.find(
            "\x6b"
            "bladerunner");
        REQUIRE(at != std::string::npos);
        val_bytes[at] = char(0x4b);
        CHECK(code_of(val_bytes) == int(label_errc::wrong_type));
        label n = vector_label();
        n.neg_present = true;
        std::string neg_int = signing_bytes(n);
        const auto np = neg_int.find("\x63neg\xf4");
        REQUIRE(np != std::string::npos);
        neg_int[np + 4] = 0x00;  // neg: 0
        CHECK(code_of(neg_int) == int(label_errc::wrong_type));
        std::string neg_null = signing_bytes(n);
        neg_null[np + 4] = char(0xf6);
        CHECK(code_of(neg_null) == int(label_errc::wrong_type));
        CHECK(code_of("\x84\x01\x02\x03\x04") == int(label_errc::malformed));  // array
    }
    SECTION("sig of the wrong length") {
        label l = vector_label();
        l.sig = sig_from_hex(vector_sig);
        std::string b = encode_cbor(l);
        const auto at = b.find("\x63sig\x58\x40");
        REQUIRE(at != std::string::npos);
        std::string short_sig = b;
        short_sig[at + 5] = 0x3f;
        short_sig.erase(at + 6, 1);
        CHECK(code_of(short_sig) == int(label_errc::invalid_field));
        std::string long_sig = b;
        long_sig[at + 5] = 0x41;
        long_sig.insert(at + 6, 1, '\0');
        CHECK(code_of(long_sig) == int(label_errc::invalid_field));
    }
    SECTION("missing required fields") {
        std::string no_ver = min;
        no_ver[0] = char(0xa4);
        no_ver.resize(no_ver.size() - 5);
        CHECK(code_of(no_ver) == int(label_errc::missing_field));
    }
    SECTION("non-canonical encodings") {
        std::string unsorted = min;  // swap order: ver first
        unsorted = std::string("\xa5\x63ver\x01") + min.substr(1, min.size() - 6);
        CHECK(code_of(unsorted) == int(label_errc::malformed));
        std::string dup = min;
        dup[0] = char(0xa6);
        dup += "\x63ver\x01";
        CHECK(code_of(dup) == int(label_errc::malformed));
        std::string long_head = min;  // ver: 1 written as 0x18 0x01
        long_head.replace(long_head.size() - 1, 1, "\x18\x01");
        CHECK(code_of(long_head) == int(label_errc::malformed));
        std::string indefinite = min;
        indefinite[0] = char(0xbf);
        CHECK(code_of(indefinite) == int(label_errc::malformed));
        std::string bad_utf8 = min;
        const auto at = bad_utf8.find("bladerunner");
        bad_utf8[at] = char(0xff);
        CHECK(code_of(bad_utf8) == int(label_errc::malformed));
    }
}

TEST_CASE("neg:false on the wire is preserved through decode and re-encode", "[label][decode]") {
    const private_key key = *private_key::from_hex(fixed_key);
    label l = vector_label();
    l.neg_present = true;  // as skyware signs it
    l.sig = key.sign(signing_bytes(l));
    const std::string wire = encode_cbor(l);
    auto back = decode_cbor(wire);
    REQUIRE(back.has_value());
    CHECK(back->neg_present);
    CHECK_FALSE(back->neg);
    CHECK(encode_cbor(*back) == wire);
    CHECK(verify(key.pub(), as_bytes(signing_bytes(*back)), *back->sig));
    // Dropping neg:false changes the signed bytes, so the signature no longer verifies.
    label normalized = *back;
    normalized.neg_present = false;
    CHECK_FALSE(verify(key.pub(), as_bytes(signing_bytes(normalized)), *back->sig));
}
