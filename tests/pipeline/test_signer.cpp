// The parallel signer: every job is signed by the writer's key, in place, in any batch size.
#include <catch2/catch.hpp>

#include <fmt/format.h>

#include "pipeline/signer.hpp"

using namespace labeler;

TEST_CASE("signer: small and large runs are signed, encoded and verifiable, in place") {
    auto key = atproto::private_key::generate();
    pipeline::signer s(key);
    for (std::size_t n : {0u, 1u, 7u, 8u, 101u, 1000u}) {
        std::vector<pipeline::sign_job> jobs(n);
        for (std::size_t i = 0; i < n; ++i) {
            jobs[i].seq = i + 1;
            auto& l = jobs[i].label;
            l.src = "did:plc:signerxxxxxxxxxxxxxxxxxx";
            l.uri = fmt::format("did:plc:subject{:010}", i);
            l.val = "kichi";
            l.cts = "2026-11-29T12:00:00.000Z";
        }
        s.sign_all(jobs);
        for (std::size_t i = 0; i < n; ++i) {
            INFO("run of " << n << ", job " << i);
            auto back = atproto::decode_cbor(jobs[i].cbor);
            REQUIRE(back.has_value());
            CHECK(back->uri == fmt::format("did:plc:subject{:010}", i));
            REQUIRE(back->sig.has_value());
            auto bytes = atproto::signing_bytes(*back);
            CHECK(atproto::verify(key.pub(),
                                  {reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()},
                                  *back->sig));
        }
    }
}
