#pragma once
// CAR v1 reader (content-addressed archives, as carried in firehose `blocks`).
//
// Layout: varint(len) | DAG-CBOR header {roots: [links], version: 1} then sections
// varint(len) | binary CID (no 0x00 prefix) | block data. parse_car() checks the whole
// structure and, by default, that every sha2-256 block hashes to its CID. Duplicate, extra and
// unordered blocks are tolerated (the first copy wins in find()).
// Zero-copy: block data are views into the input, which must outlive the car_file.
// Pure function; a car_file is immutable and may be shared between threads.
#include <cstdint>
#include <span>
#include <vector>

#include "src/atproto/cid.hpp"
#include "src/common/result.hpp"

namespace labeler::atproto {

struct car_block {
    cid id;
    std::span<const std::uint8_t> data;  // view into the parsed buffer
};

struct car_file {
    std::vector<cid> roots;
    std::vector<car_block> blocks;  // in file order

    // The data of the block with this CID, or nullptr if absent.
    const car_block* find(const cid& id) const noexcept;
    // Same, by binary CID (e.g. cbor::value::as_link()) without building a cid.
    const car_block* find(std::span<const std::uint8_t> binary_cid) const noexcept;
};

// Parses a CAR v1 file. With verify_hashes, every block must use sha2-256 and match its CID.
result<car_file> parse_car(std::span<const std::uint8_t> in, bool verify_hashes = true);

}  // namespace labeler::atproto
