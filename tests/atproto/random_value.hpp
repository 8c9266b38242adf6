#pragma once
// Test helper: random DAG-CBOR value trees (all kinds, nested, unicode keys, links) over storage
// owned by the generator. Deterministic for a given seed.
#include <algorithm>
#include <deque>
#include <random>
#include <string>
#include <vector>

#include "src/atproto/cbor.hpp"
#include "src/atproto/cid.hpp"
#include "tests/atproto/test_util.hpp"

namespace labeler::test {

using atproto::cid;
using atproto::cbor::value;

// Random value trees over storage owned by the generator.
struct value_generator {
    std::mt19937_64 rng{1234};
    std::deque<std::string> strings;
    std::deque<std::vector<value>> slots;

    std::string& random_string(std::size_t max) {
        static const char* pieces[] = {"a", "b", "z", "é", "☎", "😀", "0", "$type", " ", "\x7f"};
        auto& s = strings.emplace_back();
        const std::size_t n = rng() % (max + 1);
        for (std::size_t i = 0; i < n; ++i) s += pieces[rng() % 10];
        return s;
    }

    value make(int depth) {
        const int k = int(rng() % (depth > 3 ? 6 : 9));
        switch (k) {
            case 0:
                return value::null();
            case 1:
                return value::boolean(rng() & 1);
            case 2: {
                const int shift = int(rng() % 64);
                std::int64_t i = std::int64_t(rng() >> shift);
                return value::integer(rng() & 1 ? i : -1 - i);
            }
            case 3:
                return value::text(random_string(12));
            case 4: {
                auto& s = strings.emplace_back(rng() % 300, char(rng()));
                return value::bytes(std::string_view(s));
            }
            case 5: {
                auto& s = strings.emplace_back(cid::compute(as_bytes(random_string(5))).binary());
                return value::link(as_bytes(s));
            }
            case 6:
            case 7: {
                auto& sl = slots.emplace_back();
                const std::size_t n = rng() % 6;
                for (std::size_t i = 0; i < n; ++i) sl.push_back(make(depth + 1));
                return value::array(sl);
            }
            default: {
                auto& sl = slots.emplace_back();
                const std::size_t n = rng() % 6;
                std::vector<std::string> seen;
                for (std::size_t i = 0; i < n; ++i) {
                    std::string& key = random_string(4);
                    if (std::find(seen.begin(), seen.end(), key) != seen.end()) continue;
                    seen.push_back(key);
                    sl.push_back(value::text(key));
                    sl.push_back(make(depth + 1));
                }
                return value::map(sl);
            }
        }
    }
};

}  // namespace labeler::test
