#pragma once
// Test helper: atproto JSON (Boost.JSON) -> cbor::value, with {"$link"} and {"$bytes"} mapped to
// CID links and byte strings. Owns every buffer the built values point into.
#include <boost/json.hpp>
#include <deque>
#include <string>
#include <vector>

#include "src/atproto/base64.hpp"
#include "src/atproto/cbor.hpp"
#include "src/atproto/cid.hpp"

namespace labeler::test {

class json_builder {
public:
    // Converts `j`; throws std::runtime_error on floats or malformed $link/$bytes.
    atproto::cbor::value build(const boost::json::value& j) {
        using atproto::cbor::value;
        switch (j.kind()) {
            case boost::json::kind::null:
                return value::null();
            case boost::json::kind::bool_:
                return value::boolean(j.get_bool());
            case boost::json::kind::int64:
                return value::integer(j.get_int64());
            case boost::json::kind::uint64:
                return value::integer(std::int64_t(j.get_uint64()));
            case boost::json::kind::double_:
                throw std::runtime_error("float in data model");
            case boost::json::kind::string:
                return value::text(keep(j.get_string()));
            case boost::json::kind::array: {
                auto& slots = slots_.emplace_back();
                for (const auto& e : j.get_array()) slots.push_back(build(e));
                return value::array(slots);
            }
            case boost::json::kind::object: {
                const auto& o = j.get_object();
                if (o.size() == 1 && o.contains("$link")) {
                    auto c = atproto::cid::parse(o.at("$link").as_string());
                    if (!c) throw std::runtime_error(c.error().message);
                    auto& b = strings_.emplace_back(c->binary());
                    return value::link({reinterpret_cast<const std::uint8_t*>(b.data()), b.size()});
                }
                if (o.size() == 1 && o.contains("$bytes")) {
                    auto d = atproto::base64_decode(o.at("$bytes").as_string());
                    if (!d) throw std::runtime_error(d.error().message);
                    auto& b = strings_.emplace_back(d->begin(), d->end());
                    return value::bytes(std::string_view(b));
                }
                auto& slots = slots_.emplace_back();
                slots.reserve(2 * o.size());
                for (const auto& kv : o) {
                    slots.push_back(value::text(keep(kv.key())));
                    slots.push_back(build(kv.value()));
                }
                return value::map(slots);
            }
        }
        throw std::runtime_error("unreachable");
    }

private:
    std::string_view keep(std::string_view s) { return strings_.emplace_back(s); }
    std::deque<std::string> strings_;
    std::deque<std::vector<atproto::cbor::value>> slots_;
};

}  // namespace labeler::test
