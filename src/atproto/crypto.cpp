#include "src/atproto/crypto.hpp"

#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <secp256k1.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "src/atproto/multikey.hpp"
#include "src/common/log.hpp"

namespace labeler::atproto {
namespace {

const logger log_crypto("crypto");

// One randomized context for the whole process. Signing and verification take it as const,
// which libsecp256k1 documents as safe from any number of threads.
const secp256k1_context* k256_ctx() {
    static const secp256k1_context* ctx = [] {
        secp256k1_context* c = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
        if (!c) std::abort();
        unsigned char seed[32];
        if (getrandom(seed, sizeof seed, 0) != ssize_t(sizeof seed) ||
            !secp256k1_context_randomize(c, seed)) {
            log_crypto.error("cannot randomize the secp256k1 context");
            std::abort();
        }
        return c;
    }();
    return ctx;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::string errno_text(int e) {
    return std::strerror(e);
}

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// P-256 group order n, and n/2 (signatures with s > n/2 are high-S).
constexpr std::array<std::uint8_t, 32> p256_n = {
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51};

constexpr std::array<std::uint8_t, 32> half(const std::array<std::uint8_t, 32>& v) {
    std::array<std::uint8_t, 32> out{};
    unsigned carry = 0;
    for (std::size_t i = 0; i < 32; ++i) {
        out[i] = std::uint8_t((v[i] >> 1) | (carry << 7));
        carry = v[i] & 1;
    }
    return out;
}
constexpr std::array<std::uint8_t, 32> p256_half_n = half(p256_n);

// Big-endian comparison of two 32-byte integers.
int compare32(const std::uint8_t* a, const std::uint8_t* b) {
    return std::memcmp(a, b, 32);
}

// DER INTEGER of an unsigned big-endian 32-byte value.
void append_der_integer(std::string& out, const std::uint8_t* v) {
    std::size_t i = 0;
    while (i < 31 && v[i] == 0) ++i;
    const bool pad = v[i] & 0x80;
    out.push_back(0x02);
    out.push_back(char(32 - i + (pad ? 1 : 0)));
    if (pad) out.push_back('\0');
    out.append(reinterpret_cast<const char*>(v + i), 32 - i);
}

struct evp_pkey_free {
    void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct evp_pkey_ctx_free {
    void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
struct param_bld_free {
    void operator()(OSSL_PARAM_BLD* p) const { OSSL_PARAM_BLD_free(p); }
};
struct param_free {
    void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};

bool verify_k256(const public_key& key, const sha256_digest& digest,
                 std::span<const std::uint8_t> sig) {
    const secp256k1_context* ctx = k256_ctx();
    secp256k1_pubkey pk;
    secp256k1_ecdsa_signature s;
    if (!secp256k1_ec_pubkey_parse(ctx, &pk, key.compressed.data(), key.compressed.size()))
        return false;
    if (!secp256k1_ecdsa_signature_parse_compact(ctx, &s, sig.data())) return false;
    // secp256k1_ecdsa_verify returns 0 for a high-S signature: never normalize here.
    return secp256k1_ecdsa_verify(ctx, &s, digest.data(), &pk) == 1;
}

bool verify_p256(const public_key& key, const sha256_digest& digest,
                 std::span<const std::uint8_t> sig) {
    const std::uint8_t* r = sig.data();
    const std::uint8_t* s = sig.data() + 32;
    static constexpr std::array<std::uint8_t, 32> zero{};
    if (compare32(r, zero.data()) == 0 || compare32(s, zero.data()) == 0) return false;
    if (compare32(r, p256_n.data()) >= 0) return false;
    if (compare32(s, p256_half_n.data()) > 0) return false;  // high-S: invalid in atproto

    std::unique_ptr<OSSL_PARAM_BLD, param_bld_free> bld(OSSL_PARAM_BLD_new());
    if (!bld ||
        !OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ||
        !OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, key.compressed.data(),
                                          key.compressed.size()))
        return false;
    std::unique_ptr<OSSL_PARAM, param_free> params(OSSL_PARAM_BLD_to_param(bld.get()));
    std::unique_ptr<EVP_PKEY_CTX, evp_pkey_ctx_free> fctx(
        EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
    if (!params || !fctx || EVP_PKEY_fromdata_init(fctx.get()) <= 0) return false;
    EVP_PKEY* raw = nullptr;  // fromdata decompresses the point and checks it is on the curve
    if (EVP_PKEY_fromdata(fctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) <= 0) return false;
    std::unique_ptr<EVP_PKEY, evp_pkey_free> pkey(raw);

    std::string der;
    der.reserve(72);
    std::string body;
    append_der_integer(body, r);
    append_der_integer(body, s);
    der.push_back(0x30);
    der.push_back(char(body.size()));
    der += body;

    std::unique_ptr<EVP_PKEY_CTX, evp_pkey_ctx_free> vctx(
        EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
    if (!vctx || EVP_PKEY_verify_init(vctx.get()) <= 0) return false;
    return EVP_PKEY_verify(vctx.get(), reinterpret_cast<const unsigned char*>(der.data()),
                           der.size(), digest.data(), digest.size()) == 1;
}

}  // namespace

bool verify(const public_key& key, std::span<const std::uint8_t> message,
            std::span<const std::uint8_t> sig) {
    if (sig.size() != 64) return false;  // compact r||s only; DER is never accepted
    if (key.compressed[0] != 0x02 && key.compressed[0] != 0x03) return false;
    const sha256_digest digest = sha256(message);
    switch (key.crv) {
        case curve::k256:
            return verify_k256(key, digest, sig);
        case curve::p256:
            return verify_p256(key, digest, sig);
    }
    return false;
}

namespace {

// Builds a key from a 32-byte scalar already checked by secp256k1_ec_seckey_verify.
public_key derive_public(const std::array<std::uint8_t, 32>& secret) {
    const secp256k1_context* ctx = k256_ctx();
    secp256k1_pubkey pk;
    if (!secp256k1_ec_pubkey_create(ctx, &pk, secret.data())) std::abort();
    public_key pub;
    pub.crv = curve::k256;
    std::size_t len = pub.compressed.size();
    secp256k1_ec_pubkey_serialize(ctx, pub.compressed.data(), &len, &pk, SECP256K1_EC_COMPRESSED);
    return pub;
}

}  // namespace

private_key private_key::generate() {
    private_key k;
    do {
        std::size_t got = 0;
        while (got < k.secret_.size()) {
            ssize_t n = getrandom(k.secret_.data() + got, k.secret_.size() - got, 0);
            if (n < 0) {
                if (errno == EINTR) continue;
                log_crypto.error("getrandom failed: {}", errno_text(errno));
                std::abort();
            }
            got += std::size_t(n);
        }
    } while (!secp256k1_ec_seckey_verify(k256_ctx(), k.secret_.data()));
    k.pub_ = derive_public(k.secret_);
    return k;
}

result<private_key> private_key::from_hex(std::string_view hex) {
    if (hex.size() != 64)
        return fail(int(key_errc::bad_format), "expected 64 hex characters, got " +
                                                   std::to_string(hex.size()) + " characters");
    private_key k;
    for (std::size_t i = 0; i < 32; ++i) {
        const int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return fail(int(key_errc::bad_format), "not a hex character at offset " +
                                                       std::to_string(hi < 0 ? 2 * i : 2 * i + 1));
        k.secret_[i] = std::uint8_t(hi << 4 | lo);
    }
    if (!secp256k1_ec_seckey_verify(k256_ctx(), k.secret_.data()))
        return fail(int(key_errc::bad_scalar),
                    "not a valid secp256k1 private key (zero or not below the group order)");
    k.pub_ = derive_public(k.secret_);
    return k;
}

result<private_key> private_key::load_file(const std::filesystem::path& path) {
    const std::string p = path.string();
    const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        const int e = errno;
        return fail(int(e == ENOENT ? key_errc::missing : key_errc::io),
                    p + ": cannot open signing key: " + errno_text(e) +
                        (e == ENOENT ? " (create one with `random-labeler keygen --out " + p + "`)"
                                     : std::string{}));
    }
    struct closer {
        int fd;
        ~closer() { ::close(fd); }
    } close_fd{fd};
    struct stat st {};
    if (::fstat(fd, &st) != 0)
        return fail(int(key_errc::io), p + ": cannot stat signing key: " + errno_text(errno));
    if (!S_ISREG(st.st_mode))
        return fail(int(key_errc::not_regular), p + ": signing key is not a regular file");
    if (st.st_mode & 077) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", unsigned(st.st_mode & 07777));
        return fail(int(key_errc::permissions),
                    p + ": signing key is accessible by group or others (mode " + mode +
                        "); run `chmod 600 " + p + "`");
    }
    char buf[4097];
    std::size_t len = 0;
    while (len < sizeof buf) {
        const ssize_t n = ::read(fd, buf + len, sizeof buf - len);
        if (n < 0) {
            if (errno == EINTR) continue;
            return fail(int(key_errc::io), p + ": cannot read signing key: " + errno_text(errno));
        }
        if (n == 0) break;
        len += std::size_t(n);
    }
    if (len == sizeof buf)
        return fail(int(key_errc::bad_format),
                    p + ": signing key file is too large (expected 64 hex characters)");
    std::string_view text(buf, len);
    while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
    while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
    auto k = from_hex(text);
    std::memset(buf, 0, sizeof buf);
    if (!k) return fail(k.error().code, p + ": signing key: " + k.error().message);
    return k;
}

result<void> private_key::save_file(const std::filesystem::path& path) const {
    const std::string p = path.string();
    const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        const int e = errno;
        if (e == EEXIST)
            return fail(int(key_errc::exists), p + ": refusing to overwrite an existing file");
        return fail(int(key_errc::io), p + ": cannot create key file: " + errno_text(e));
    }
    struct closer {
        int fd;
        ~closer() { ::close(fd); }
    } close_fd{fd};
    const std::string text = to_hex() + "\n";
    std::size_t off = 0;
    while (off < text.size()) {
        const ssize_t n = ::write(fd, text.data() + off, text.size() - off);
        if (n < 0) {
            if (errno == EINTR) continue;
            return fail(int(key_errc::io), p + ": cannot write key file: " + errno_text(errno));
        }
        off += std::size_t(n);
    }
    if (::fchmod(fd, 0600) != 0 || ::fsync(fd) != 0)
        return fail(int(key_errc::io), p + ": cannot finish key file: " + errno_text(errno));
    return {};
}

std::string private_key::to_hex() const {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out(64, '0');
    for (std::size_t i = 0; i < 32; ++i) {
        out[2 * i] = digits[secret_[i] >> 4];
        out[2 * i + 1] = digits[secret_[i] & 15];
    }
    return out;
}

std::string private_key::did_key() const {
    return to_did_key(pub_);
}

signature private_key::sign(std::span<const std::uint8_t> message) const {
    const secp256k1_context* ctx = k256_ctx();
    const sha256_digest digest = sha256(message);
    secp256k1_ecdsa_signature s;
    // Default nonce function = RFC 6979; libsecp256k1 always produces low-S signatures.
    if (!secp256k1_ecdsa_sign(ctx, &s, digest.data(), secret_.data(), nullptr, nullptr))
        std::abort();  // only fails for an invalid secret, which construction rules out
    signature out;
    secp256k1_ecdsa_signature_serialize_compact(ctx, out.data(), &s);
    return out;
}

}  // namespace labeler::atproto
