#pragma once
// Test helpers: temp_dir (a mkdtemp folder removed when the object dies), the test stamp and
// options, label fields and their stand-in CBOR, and a Catch printer for labeler::result.
#include <catch2/catch.hpp>

#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "storage/label_store.hpp"

namespace labeler::storage::test {

class temp_dir {
public:
    temp_dir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "labeler-storage-XXXXXX").string();
        if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
        path_ = tmpl;
    }
    ~temp_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    const std::filesystem::path& path() const { return path_; }
    // A data folder inside the temp dir (not yet created, as in a first run).
    std::filesystem::path data() const { return path_ / "data"; }

private:
    std::filesystem::path path_;
};

inline stamp test_stamp() {
    return {"test", "did:plc:labeler0000000000000000", "did:key:zQ3shTestKeyFingerprint"};
}

inline store_options test_options(const std::filesystem::path& p) {
    store_options o;
    o.path = p;
    o.expected = test_stamp();
    o.block_cache_bytes = 8u << 20;
    return o;
}

inline label_fields fields(std::string uri, std::string val, bool neg = false,
                           std::string src = "did:plc:labeler0000000000000000") {
    label_fields f;
    f.src = std::move(src);
    f.uri = std::move(uri);
    f.val = std::move(val);
    f.neg = neg;
    f.cts = "2026-11-29T10:00:00.000Z";
    return f;
}

// Stand-in for the signed DAG-CBOR: the store treats it as opaque bytes.
inline std::string fake_cbor(const label_fields& f) {
    return "cbor|" + f.uri + "|" + f.val + (f.neg ? "|neg" : "|pos");
}

}  // namespace labeler::storage::test

// Lets Catch print a labeler::result in CHECK(r) / REQUIRE_FALSE(r): its message on error.
namespace Catch {
template <class T>
struct StringMaker<boost::system::result<T, labeler::error>> {
    static std::string convert(const boost::system::result<T, labeler::error>& r) {
        return r ? std::string("result(value)") : "result(error: " + r.error().message + ")";
    }
};
}  // namespace Catch
