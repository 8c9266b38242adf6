// Cross-checks labels with an independent implementation (@atproto/crypto, @ipld/dag-cbor,
// @atproto/api lexicons under Node): our labels verify there, a flipped byte is rejected there,
// and labels signed there (k256 and p256) verify here.
// Needs `node` on PATH and tests/interop/node_modules (scripts/test.sh runs `npm ci`).
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "src/atproto/crypto.hpp"
#include "src/atproto/label.hpp"
#include "src/atproto/multikey.hpp"
#include "tests/label/fixtures.hpp"

using namespace labeler::atproto;
namespace fs = std::filesystem;

namespace {

const fs::path interop_dir = fs::path(LABELER_SOURCE_DIR) / "tests" / "interop";

std::string find_node() {
    const char* path = std::getenv("PATH");
    std::stringstream ss(path ? path : "");
    std::string dir;
    while (std::getline(ss, dir, ':')) {
        const fs::path p = fs::path(dir.empty() ? "." : dir) / "node";
        if (::access(p.c_str(), X_OK) == 0) return p.string();
    }
    return {};
}

// Fails the test (never skips) when the Node side is not installed.
std::string require_node_env() {
    const std::string node = find_node();
    if (node.empty()) FAIL("`node` is not on PATH; install Node 20 and run scripts/test.sh");
    if (!fs::exists(interop_dir / "node_modules" / "@atproto" / "crypto") ||
        !fs::exists(interop_dir / "node_modules" / "@ipld" / "dag-cbor"))
        FAIL(
            "tests/interop/node_modules is missing: run scripts/test.sh "
            "(it runs `npm ci` in tests/interop)");
    return node;
}

std::string quote(const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

struct run_result {
    int status;
    std::string output;
};

// Runs a shell command, capturing stdout+stderr.
run_result run(const std::string& cmd) {
    FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
    REQUIRE(p != nullptr);
    std::string out;
    char buf[4096];
    while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
    const int st = ::pclose(p);
    return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

struct temp_dir {
    fs::path path;
    temp_dir() {
        std::string tmpl = (fs::temp_directory_path() / "labels-interop-XXXXXX").string();
        REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        path = tmpl;
    }
    ~temp_dir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

std::string hex(const std::string& b) {
    static constexpr char d[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : b) {
        out.push_back(d[c >> 4]);
        out.push_back(d[c & 15]);
    }
    return out;
}

std::string unhex(std::string_view h) {
    std::string out;
    for (std::size_t i = 0; i + 1 < h.size(); i += 2)
        out.push_back(char(std::stoi(std::string(h.substr(i, 2)), nullptr, 16)));
    return out;
}

std::vector<label> sample_labels(const private_key& key) {
    std::vector<label> out;
    const char* vals[] = {"daikichi", "kichi", "kyo", "dai-kyo", "大吉", "kichi-😀", "x"};
    for (int i = 0; i < 14; ++i) {
        label l;
        l.src = "did:plc:ar7c4by46qjdydhdevvrndac";
        l.uri = i % 2 ? "did:plc:subject" + std::to_string(i)
                      : "at://did:plc:subject" + std::to_string(i) +
                            "/app.bsky.feed.post/3jzfcijpj2z2a";
        if (i == 4) l.uri = "at://did:web:xn--bcher-kva.example/app.bsky.feed.post/self";
        l.val = vals[i % 7];
        l.neg = i % 3 == 1;
        if (i % 4 == 2) l.cid = "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm";
        l.cts = "2026-11-29T10:" + std::string(i < 10 ? "0" : "") + std::to_string(i) + ":00.000Z";
        if (i % 5 == 3) l.exp = "2027-01-01T00:00:00.000Z";
        if (i == 13) l.val = std::string(128, 'k');
        l.sig = key.sign(signing_bytes(l));
        out.push_back(std::move(l));
    }
    return out;
}

std::string entry_line(const label& l, const std::string& did_key, const std::string& cbor) {
    boost::json::object o;
    o["cbor_hex"] = hex(cbor);
    o["unsigned_hex"] = hex(signing_bytes(l));
    o["did_key"] = did_key;
    o["json"] = to_json(l);
    return boost::json::serialize(o);
}

}  // namespace

TEST_CASE("labels we sign verify with @atproto/crypto and @ipld/dag-cbor", "[interop]") {
    const std::string node = require_node_env();
    temp_dir dir;
    const private_key key = private_key::generate();
    const auto labels = sample_labels(key);
    const fs::path file = dir.path / "labels.jsonl";
    {
        std::ofstream out(file);
        for (const auto& l : labels) out << entry_line(l, key.did_key(), encode_cbor(l)) << "\n";
    }
    const auto r = run(quote(node) + " " + quote((interop_dir / "verify-labels.mjs").string()) +
                       " " + quote(file.string()));
    INFO(r.output);
    CHECK(r.status == 0);
    CHECK(r.output.find("ok " + std::to_string(labels.size() - 1)) != std::string::npos);
    CHECK(r.output.find("FAIL") == std::string::npos);
}

TEST_CASE("a flipped byte is rejected by the node verifier", "[interop]") {
    const std::string node = require_node_env();
    temp_dir dir;
    const private_key key = private_key::generate();
    const auto labels = sample_labels(key);
    const std::string script = (interop_dir / "verify-labels.mjs").string();
    // Flip a byte in the signature, in the value text and in the cts text, one file each.
    for (const char* where : {"sig", "val", "cts"}) {
        INFO(where);
        std::string cbor = encode_cbor(labels[0]);
        std::size_t at = std::string::npos;
        if (std::string_view(where) == "sig") at = cbor.find("\x63sig") + 6 + 10;
        if (std::string_view(where) == "val") at = cbor.find("daikichi") + 3;
        if (std::string_view(where) == "cts") at = cbor.find("2026-11-29") + 3;
        REQUIRE(at < cbor.size());
        cbor[at] = char(cbor[at] ^ 0x01);
        const fs::path file = dir.path / (std::string(where) + ".jsonl");
        {
            std::ofstream out(file);
            boost::json::object o;
            o["cbor_hex"] = hex(cbor);
            o["did_key"] = key.did_key();
            out << boost::json::serialize(o) << "\n";
        }
        const auto r = run(quote(node) + " " + quote(script) + " " + quote(file.string()));
        INFO(r.output);
        CHECK(r.status != 0);
        CHECK(r.output.find("FAIL 0") != std::string::npos);
        // And our own verifier agrees.
        auto decoded = decode_cbor(cbor);
        REQUIRE(decoded);
        CHECK_FALSE(verify(key.pub(),
                           std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(
                                                             signing_bytes(*decoded).data()),
                                                         signing_bytes(*decoded).size()),
                           *decoded->sig));
    }
}

TEST_CASE("labels signed by @atproto/crypto verify here (k256 and p256)", "[interop]") {
    const std::string node = require_node_env();
    const std::string script = (interop_dir / "sign-labels.mjs").string();
    for (const char* crv : {"k256", "p256"}) {
        INFO(crv);
        const auto r = run(quote(node) + " " + quote(script) + " " + crv + " 24");
        INFO(r.output);
        REQUIRE(r.status == 0);
        std::istringstream lines(r.output);
        std::string line;
        int n = 0;
        while (std::getline(lines, line)) {
            if (line.empty()) continue;
            const auto o = boost::json::parse(line).as_object();
            const std::string cbor = unhex(o.at("cbor_hex").as_string());
            auto l = decode_cbor(cbor);
            REQUIRE(l);
            CHECK(validate(*l));
            const std::string unsigned_bytes = signing_bytes(*l);
            CHECK(hex(unsigned_bytes) == std::string_view(o.at("unsigned_hex").as_string()));
            CHECK(encode_cbor(*l) == cbor);
            auto key = parse_did_key(std::string_view(o.at("did_key").as_string()));
            REQUIRE(key);
            CHECK(key->crv == (std::string_view(crv) == "k256" ? curve::k256 : curve::p256));
            const auto msg = std::span<const std::uint8_t>(
                reinterpret_cast<const std::uint8_t*>(unsigned_bytes.data()),
                unsigned_bytes.size());
            CHECK(verify(*key, msg, *l->sig));
            auto flipped = *l->sig;
            flipped[40] ^= 0x80;
            CHECK_FALSE(verify(*key, msg, flipped));
            ++n;
        }
        CHECK(n == 24);
    }
}
