#pragma once
// Signing keys and signature verification for atproto (k256 = secp256k1, p256 = NIST P-256).
//
// Signatures are 64-byte compact r||s over SHA-256 of the message, low-S only: high-S and DER
// are rejected for both curves. k256 signing uses libsecp256k1 (RFC 6979 deterministic nonces,
// low-S output); p256 verification uses OpenSSL with an explicit low-S check.
// private_key is immutable after construction and safe to share between threads.
#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "src/atproto/sha256.hpp"
#include "src/common/result.hpp"

namespace labeler::atproto {

enum class curve { k256, p256 };

using signature = std::array<std::uint8_t, 64>;

// error::code values of private_key's loading and saving errors.
enum class key_errc : int {
    bad_format = 1,  // not 64 hex characters
    bad_scalar,      // zero or not below the secp256k1 group order
    missing,         // file does not exist
    not_regular,     // not a regular file
    permissions,     // readable/writable by group or others
    exists,          // save_file: the file already exists
    io,              // any other system error
};

struct public_key {
    curve crv = curve::k256;
    std::array<std::uint8_t, 33> compressed{};  // 0x02/0x03 prefix + X
};

// Verifies a compact low-S signature over sha256(message). False for any malformed input.
bool verify(const public_key& key, std::span<const std::uint8_t> message,
            std::span<const std::uint8_t> sig);

// A secp256k1 private key.
class private_key {
public:
    static private_key generate();                              // from the OS CSPRNG
    static result<private_key> from_hex(std::string_view hex);  // 64 hex chars, valid scalar
    // Reads a key file written by keygen: hex (surrounding whitespace allowed). Refuses files
    // readable by group/others, and explains a malformed file. Errors name the path.
    static result<private_key> load_file(const std::filesystem::path& path);
    // Writes hex + "\n" with mode 0600; refuses to overwrite an existing file.
    result<void> save_file(const std::filesystem::path& path) const;

    std::string to_hex() const;
    const public_key& pub() const { return pub_; }
    // did:key:zQ3s… of the public key.
    std::string did_key() const;
    // Signs sha256(message); deterministic (RFC 6979), low-S, compact r||s.
    signature sign(std::span<const std::uint8_t> message) const;
    signature sign(std::string_view message) const {
        return sign({reinterpret_cast<const std::uint8_t*>(message.data()), message.size()});
    }

private:
    std::array<std::uint8_t, 32> secret_{};
    public_key pub_;
};

}  // namespace labeler::atproto
