#pragma once
// Shared helpers of the pipeline tests: temp dirs, a real store, a collecting sink, profiles.
#include <stdlib.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "src/atproto/crypto.hpp"
#include "src/atproto/label.hpp"
#include "src/config/profile.hpp"
#include "storage/label_sink.hpp"
#include "storage/label_store.hpp"

namespace labeler::pipeline::test {

struct temp_dir {
    std::filesystem::path path;
    temp_dir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "pipeline-test-XXXXXX").string();
        REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        path = tmpl;
    }
    ~temp_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
};

struct collecting_sink final : storage::label_sink {
    std::mutex mu;
    std::vector<storage::shared_entry> entries;
    void publish(std::vector<storage::shared_entry> e) override {
        std::lock_guard lk(mu);
        for (auto& x : e) entries.push_back(std::move(x));
    }
    std::size_t size() {
        std::lock_guard lk(mu);
        return entries.size();
    }
};

inline const atproto::private_key& test_key() {
    static const auto key =
        atproto::private_key::from_hex(
            "9085d2bef69286a6cbb51623c8fa258629945cd55ca705cc4e66700396894e0c")
            .value();
    return key;
}

inline std::unique_ptr<storage::label_store> open_store(const std::filesystem::path& dir,
                                                        const std::string& labeler_did) {
    storage::store_options o;
    o.path = dir / "data";
    o.expected = {"test", labeler_did, test_key().did_key()};
    auto s = storage::label_store::open(o);
    REQUIRE(s.has_value());
    return std::move(*s);
}

inline config::profile make_profile(const std::string& labeler_did) {
    config::profile p;
    p.environment = "test";
    p.labeler_did = labeler_did;
    p.values = {{"daikichi", 1, {{"en", "Excellent luck", "d"}}},
                {"kichi", 3, {{"en", "Good luck", "d"}}},
                {"kyo", 1, {{"en", "Bad luck", "d"}}}};
    p.pipeline.queue_capacity = 64;
    p.pipeline.batch_max = 16;
    return p;
}

// Values `did` holds now, in value order.
inline std::vector<std::string> held(const storage::label_store& store, const std::string& did) {
    auto st = store.state(did);
    REQUIRE(st.has_value());
    std::vector<std::string> out;
    for (auto* h : st->held()) out.push_back(h->val);
    return out;
}

// Every log entry, decoded and signature-checked.
inline std::vector<atproto::label> read_all(const storage::label_store& store) {
    auto log = store.read_log(0, 100000);
    REQUIRE(log.has_value());
    std::vector<atproto::label> out;
    for (auto& e : *log) {
        auto l = atproto::decode_cbor(e.cbor);
        REQUIRE(l.has_value());
        REQUIRE(l->sig.has_value());
        auto unsigned_bytes = atproto::signing_bytes(*l);
        CHECK(atproto::verify(test_key().pub(),
                              {reinterpret_cast<const std::uint8_t*>(unsigned_bytes.data()),
                               unsigned_bytes.size()},
                              *l->sig));
        out.push_back(std::move(*l));
    }
    return out;
}

inline std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    REQUIRE(in.good());
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Spins (yielding, no sleeping) until `pred` holds.
template <class F>
void wait_until(F pred) {
    while (!pred()) std::this_thread::yield();
}

}  // namespace labeler::pipeline::test
