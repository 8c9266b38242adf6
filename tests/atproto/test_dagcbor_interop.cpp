// Cross-checks the DAG-CBOR codec with @ipld/dag-cbor under Node (an independent, strict
// implementation): what we encode (random trees, every firehose frame item and record block)
// it decodes and re-encodes byte-identically, and what it encodes (random trees incl. 64-bit
// integers and links) we decode and re-encode byte-identically.
// Needs `node` on PATH and tests/interop/node_modules (scripts/test.sh runs `npm ci` there);
// fails, never skips, when they are missing.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "src/atproto/car.hpp"
#include "src/atproto/cbor.hpp"
#include "tests/atproto/random_value.hpp"
#include "tests/atproto/test_util.hpp"

using namespace labeler::atproto;
using labeler::test::as_bytes;
using labeler::test::hex;
namespace fs = std::filesystem;

namespace {

const fs::path interop_dir = fs::path(LABELER_SOURCE_DIR) / "tests" / "interop";
const fs::path script = fs::path(LABELER_SOURCE_DIR) / "tests" / "atproto" / "dagcbor_check.mjs";

void require_node() {
    if (std::system("command -v node > /dev/null 2>&1") != 0) {
        FAIL("`node` is not on PATH; install Node 20 and run scripts/test.sh");
    }
    if (!fs::exists(interop_dir / "node_modules" / "@ipld" / "dag-cbor")) {
        FAIL("tests/interop/node_modules is missing: run scripts/test.sh (npm ci)");
    }
}

// Runs the Node script with `args`; returns its stdout lines.
std::vector<std::string> run_node(const std::string& args) {
    const std::string cmd = "cd '" + interop_dir.string() + "' && node --input-type=module - " +
                            args + " < '" + script.string() + "'";
    FILE* p = ::popen(cmd.c_str(), "r");
    REQUIRE(p != nullptr);
    std::string out;
    char buf[65536];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
    REQUIRE(::pclose(p) == 0);
    std::vector<std::string> lines;
    std::istringstream in(out);
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    return lines;
}

struct temp_dir {
    fs::path path;
    temp_dir() {
        std::string tmpl = (fs::temp_directory_path() / "codecs-XXXXXX").string();
        REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        path = tmpl;
    }
    ~temp_dir() { fs::remove_all(path); }
};

}  // namespace

TEST_CASE("our encoder's output is canonical for @ipld/dag-cbor", "[interop][cbor]") {
    require_node();
    std::vector<std::string> items;
    labeler::test::value_generator gen;
    for (int i = 0; i < 300; ++i) items.push_back(cbor::encode(gen.make(0)));

    // Every header, body and record block of the firehose capture, re-encoded by us.
    const std::string bin =
        labeler::test::slurp(LABELER_FIXTURE_DIR "/pds-firehose/firehose.bin");
    REQUIRE_FALSE(bin.empty());
    cbor::decoder dec, rec;
    std::size_t frames = 0;
    for (std::size_t pos = 0; pos + 4 <= bin.size(); ++frames) {
        const auto* p = reinterpret_cast<const std::uint8_t*>(bin.data() + pos);
        const std::size_t len = std::size_t(p[0]) << 24 | p[1] << 16 | p[2] << 8 | p[3];
        auto f = dec.decode_frame(std::string_view(bin.data() + pos + 4, len));
        pos += 4 + len;
        REQUIRE(f);
        items.push_back(cbor::encode(f->header));
        items.push_back(cbor::encode(f->body));
        if (const auto* blocks = f->body.find("blocks")) {
            auto car = parse_car(blocks->as_bytes());
            REQUIRE(car);
            for (const auto& b : car->blocks) {
                auto r = rec.decode(b.data);
                REQUIRE(r);
                items.push_back(cbor::encode(*r));
            }
        }
    }
    CHECK(frames == 134);

    temp_dir tmp;
    const fs::path file = tmp.path / "items.hex";
    {
        std::ofstream out(file);
        for (const auto& it : items) out << hex(it) << '\n';
    }
    const auto lines = run_node("check '" + file.string() + "'");
    REQUIRE(lines.size() == items.size());
    for (std::size_t i = 0; i < items.size(); ++i) {
        INFO("item " << i);
        CHECK(lines[i] == hex(items[i]));
    }
}

TEST_CASE("@ipld/dag-cbor output decodes and re-encodes identically here", "[interop][cbor]") {
    require_node();
    const auto lines = run_node("gen 400 12345");
    REQUIRE(lines.size() == 400);
    cbor::decoder dec;
    for (const auto& line : lines) {
        INFO(line);
        const auto bytes = labeler::test::unhex(line);
        auto v = dec.decode(bytes);
        REQUIRE(v);
        CHECK(hex(cbor::encode(*v)) == line);
    }
}
