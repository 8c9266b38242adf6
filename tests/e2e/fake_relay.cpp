#include "tests/e2e/fake_relay.hpp"

#include <fmt/format.h>

#include <fstream>
#include <iterator>

#include "src/atproto/cbor_writer.hpp"
#include "src/atproto/sha256.hpp"

namespace labeler::testing::firehose {

namespace cbor = labeler::atproto::cbor;

namespace {

constexpr std::string_view time_text = "2026-11-29T10:41:51.304Z";

std::string header(std::string_view t) {
    std::string out;
    cbor::writer w(out);
    w.map(2);
    w.text("t");
    w.text(t);
    w.text("op");
    w.uint(1);
    return out;
}

// Binary CIDv1 dag-cbor sha2-256 of `block`.
std::string cid_of(std::string_view block) {
    auto d = labeler::atproto::sha256(block);
    std::string cid("\x01\x71\x12\x20", 4);
    cid.append(reinterpret_cast<const char*>(d.data()), d.size());
    return cid;
}

void link(cbor::writer& w, std::string_view cid) {
    w.link({reinterpret_cast<const std::uint8_t*>(cid.data()), cid.size()});
}

void varint(std::string& out, std::uint64_t v) {
    while (v >= 0x80) {
        out.push_back(char((v & 0x7f) | 0x80));
        v >>= 7;
    }
    out.push_back(char(v));
}

std::string follow_record(std::string_view subject) {
    std::string out;
    cbor::writer w(out);
    w.map(3);
    w.text("$type");
    w.text("app.bsky.graph.follow");
    w.text("subject");
    w.text(subject);
    w.text("createdAt");
    w.text(time_text);
    return out;
}

std::string rev_of(std::uint64_t seq) { return fmt::format("3n3g{:09d}", seq); }

// Skips one CBOR item at p[i]; false when malformed/truncated.
bool skip(std::string_view p, std::size_t& i, int depth = 0) {
    if (i >= p.size() || depth > 32) return false;
    auto ib = std::uint8_t(p[i++]);
    int major = ib >> 5, ai = ib & 0x1f;
    std::uint64_t arg = ai;
    if (ai >= 24 && ai <= 27) {
        std::size_t n = std::size_t(1) << (ai - 24);
        if (p.size() - i < n) return false;
        arg = 0;
        for (std::size_t k = 0; k < n; ++k) arg = (arg << 8) | std::uint8_t(p[i++]);
    } else if (ai > 27) {
        return false;
    }
    switch (major) {
    case 0: case 1: case 7: return true;
    case 2: case 3:
        if (p.size() - i < arg) return false;
        i += arg;
        return true;
    case 4:
        for (std::uint64_t k = 0; k < arg; ++k)
            if (!skip(p, i, depth + 1)) return false;
        return true;
    case 5:
        for (std::uint64_t k = 0; k < 2 * arg; ++k)
            if (!skip(p, i, depth + 1)) return false;
        return true;
    case 6: return skip(p, i, depth + 1);
    }
    return false;
}

}  // namespace

std::string commit(std::uint64_t seq, std::string_view repo, std::span<const op> ops, damage d) {
    // Record blocks first, so ops can reference their CIDs.
    std::vector<std::pair<std::string, std::string>> blocks;  // (cid, data)
    std::vector<std::optional<std::string>> op_cids;
    for (auto& o : ops) {
        if (o.action == "delete") {
            op_cids.emplace_back();
            continue;
        }
        std::string rec = o.follow_subject ? follow_record(*o.follow_subject)
                                           : follow_record("did:plc:unrelated");
        std::string cid = cid_of(rec);
        op_cids.emplace_back(cid);
        if (d.bad_block_hash) rec[rec.size() - 2] ^= 0x01;  // same length, other bytes
        if (!d.missing_block) blocks.emplace_back(cid, rec);
    }
    // The commit object (unsigned placeholder signature; nothing here checks it).
    std::string commit_block;
    {
        cbor::writer w(commit_block);
        std::string data_cid = cid_of("mst-root-" + std::to_string(seq));
        w.map(6);
        w.text("did");
        w.text(repo);
        w.text("rev");
        w.text(rev_of(seq));
        w.text("sig");
        w.bytes(std::string(64, '\0'));
        w.text("data");
        link(w, data_cid);
        w.text("prev");
        w.null();
        w.text("version");
        w.uint(3);
    }
    std::string commit_cid = cid_of(commit_block);
    blocks.insert(blocks.begin(), {commit_cid, commit_block});

    std::string car;
    {
        std::string hdr;
        cbor::writer w(hdr);
        w.map(2);
        w.text("roots");
        w.array(1);
        link(w, commit_cid);
        w.text("version");
        w.uint(1);
        varint(car, hdr.size());
        car += hdr;
        for (auto& [cid, data] : blocks) {
            varint(car, cid.size() + data.size());
            car += cid;
            car += data;
        }
        if (d.truncated_car) car.resize(car.size() - 7);
    }

    std::string out = header("#commit");
    cbor::writer w(out);
    // Keys in DAG-CBOR order: ops, rev, seq, repo, time, blobs, since, blocks, commit, rebase,
    // tooBig.
    w.map(11);
    w.text("ops");
    w.array(ops.size());
    for (std::size_t i = 0; i < ops.size(); ++i) {
        w.map(3);
        w.text("cid");
        if (op_cids[i]) link(w, *op_cids[i]); else w.null();
        w.text("path");
        w.text(ops[i].collection + "/" + ops[i].rkey);
        w.text("action");
        w.text(ops[i].action);
    }
    w.text("rev");
    w.text(rev_of(seq));
    w.text("seq");
    w.uint(seq);
    w.text("repo");
    w.text(repo);
    w.text("time");
    w.text(time_text);
    w.text("blobs");
    w.array(0);
    w.text("since");
    w.null();
    w.text("blocks");
    w.bytes(car);
    w.text("commit");
    link(w, commit_cid);
    w.text("rebase");
    w.boolean(false);
    w.text("tooBig");
    w.boolean(false);
    return out;
}

std::string account(std::uint64_t seq, std::string_view did, bool active, std::string_view status) {
    std::string out = header("#account");
    cbor::writer w(out);
    w.map(status.empty() ? 4 : 5);
    w.text("did");
    w.text(did);
    w.text("seq");
    w.uint(seq);
    w.text("time");
    w.text(time_text);
    w.text("active");
    w.boolean(active);
    if (!status.empty()) {
        w.text("status");
        w.text(status);
    }
    return out;
}

std::string identity(std::uint64_t seq, std::string_view did, std::string_view handle) {
    std::string out = header("#identity");
    cbor::writer w(out);
    w.map(4);
    w.text("did");
    w.text(did);
    w.text("seq");
    w.uint(seq);
    w.text("time");
    w.text(time_text);
    w.text("handle");
    w.text(handle);
    return out;
}

std::string info(std::string_view name, std::string_view message) {
    std::string out = header("#info");
    cbor::writer w(out);
    w.map(2);
    w.text("name");
    w.text(name);
    w.text("message");
    w.text(message);
    return out;
}

std::string error(std::string_view name, std::string_view message) {
    std::string out;
    cbor::writer w(out);
    w.map(1);
    w.text("op");
    w.int64(-1);
    w.map(2);
    w.text("error");
    w.text(name);
    w.text("message");
    w.text(message);
    return out;
}

std::string unknown_type(std::uint64_t seq) {
    std::string out = header("#future");
    cbor::writer w(out);
    w.map(2);
    w.text("seq");
    w.uint(seq);
    w.text("what");
    w.text("a frame type from the future");
    return out;
}

std::optional<std::uint64_t> seq_of(std::string_view frame) {
    std::size_t i = 0;
    if (!skip(frame, i)) return std::nullopt;  // header
    if (i >= frame.size()) return std::nullopt;
    auto ib = std::uint8_t(frame[i]);
    if ((ib >> 5) != 5) return std::nullopt;
    std::uint64_t n = ib & 0x1f;
    ++i;
    if (n > 23) return std::nullopt;
    for (std::uint64_t k = 0; k < n; ++k) {
        std::size_t key_start = i;
        if (!skip(frame, i)) return std::nullopt;
        std::string_view key = frame.substr(key_start, i - key_start);
        if (key == std::string_view("\x63seq", 4)) {
            std::size_t v = i;
            auto vb = std::uint8_t(frame[v]);
            if ((vb >> 5) != 0) return std::nullopt;
            std::uint64_t arg = vb & 0x1f;
            if (arg >= 24 && arg <= 27) {
                std::size_t len = std::size_t(1) << (arg - 24);
                if (frame.size() - v - 1 < len) return std::nullopt;
                arg = 0;
                for (std::size_t b = 0; b < len; ++b) arg = (arg << 8) | std::uint8_t(frame[v + 1 + b]);
            }
            return arg;
        }
        if (!skip(frame, i)) return std::nullopt;
    }
    return std::nullopt;
}

std::vector<scripted_frame> load_capture(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return {};
    std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<scripted_frame> out;
    std::size_t i = 0;
    std::uint64_t last = 0;
    while (i + 4 <= all.size()) {
        std::size_t n = (std::size_t(std::uint8_t(all[i])) << 24) |
                        (std::size_t(std::uint8_t(all[i + 1])) << 16) |
                        (std::size_t(std::uint8_t(all[i + 2])) << 8) | std::uint8_t(all[i + 3]);
        i += 4;
        if (all.size() - i < n) return {};
        std::string frame = all.substr(i, n);
        i += n;
        last = seq_of(frame).value_or(last);
        out.push_back(scripted_frame{last, std::move(frame), true});
    }
    return out;
}

}  // namespace labeler::testing::firehose
