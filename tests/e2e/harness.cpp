#include "tests/e2e/harness.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "src/atproto/base64.hpp"
#include "src/atproto/crypto.hpp"
#include "src/atproto/multikey.hpp"
#include "storage/label_store.hpp"

namespace labeler::e2e {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace fs = std::filesystem;
using tcp = asio::ip::tcp;

// ---------------------------------------------------------------------------------------------
// temp_dir, key, profile

temp_dir::temp_dir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/labeler-e2e-XXXXXX";
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed: " + tmpl);
    path_ = tmpl;
}

temp_dir::~temp_dir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
}

std::string write_key(const fs::path& dir) {
    auto key = atproto::private_key::generate();
    auto saved = key.save_file(dir / "signing.key");
    if (!saved) throw std::runtime_error("write_key: " + saved.error().message);
    return key.did_key();
}

fs::path storage_path_of(const fs::path& dir, const profile_options& o) {
    return o.storage_path.empty() ? dir / "data" : o.storage_path;
}

fs::path key_path_of(const fs::path& dir, const profile_options& o) {
    return o.key_file.empty() ? dir / "signing.key" : o.key_file;
}

namespace {
std::string toml_str(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}
}  // namespace

fs::path write_profile(const fs::path& dir, const profile_options& o) {
    std::ostringstream t;
    t << "environment = " << toml_str(o.environment) << "\n\n";
    t << "[labeler]\n";
    t << "did = " << toml_str(o.did) << "\n";
    t << "signing_key_file = " << toml_str(key_path_of(dir, o).string()) << "\n\n";
    t << "[server]\n";
    t << "listen = " << toml_str(o.listen) << "\n";
    t << o.extra_server_toml << "\n\n";
    t << "[storage]\n";
    t << "path = " << toml_str(storage_path_of(dir, o).string()) << "\n\n";
    t << "[source]\n";
    t << "kind = " << toml_str(o.source_kind) << "\n";
    if (o.source_kind == "file") {
        t << "file = " << toml_str(o.file.string()) << "\n";
        t << "format = " << toml_str(o.format) << "\n";
    } else {
        t << "urls = [";
        for (std::size_t i = 0; i < o.urls.size(); ++i) t << (i ? ", " : "") << toml_str(o.urls[i]);
        t << "]\n";
    }
    t << "\n";
    for (auto& [id, weight] : o.values) {
        t << "[[labels.values]]\n";
        t << "id = " << toml_str(id) << "\n";
        t << "weight = " << weight << "\n";
        t << "locales = [{ lang = \"en\", name = " << toml_str(id)
          << ", description = \"e2e value\" }]\n\n";
    }
    t << o.extra_toml << "\n";
    auto path = dir / "profile.toml";
    std::ofstream f(path, std::ios::trunc);
    f << t.str();
    if (!f) throw std::runtime_error("write_profile: cannot write " + path.string());
    return path;
}

// ---------------------------------------------------------------------------------------------
// seeding

std::vector<atproto::label> make_labels(std::size_t n, const std::string& src,
                                        std::size_t first_index) {
    static const char* values[] = {"daikichi", "kichi", "kyo"};
    std::vector<atproto::label> out;
    out.reserve(n);
    for (std::size_t k = 0; k < n; ++k) {
        std::size_t i = first_index + k;
        atproto::label l;
        l.src = src;
        char subj[64];
        std::snprintf(subj, sizeof subj, "did:plc:subj%020zu", i);
        l.uri = subj;
        l.val = values[i % 3];
        // 2026-01-01T00:00:00.000Z + i ms (fine up to ~2.4e9 labels).
        l.cts = fmt::format("2026-01-{:02}T{:02}:{:02}:{:02}.{:03}Z", 1 + (i / 86400000) % 28,
                            (i / 3600000) % 24, (i / 60000) % 60, (i / 1000) % 60, i % 1000);
        out.push_back(std::move(l));
    }
    return out;
}

std::vector<seeded_label> seed_store(const fs::path& dir, const profile_options& o,
                                     std::vector<atproto::label> labels) {
    auto key = atproto::private_key::load_file(key_path_of(dir, o));
    if (!key) throw std::runtime_error("seed_store: " + key.error().message);
    storage::store_options so;
    so.path = storage_path_of(dir, o);
    so.expected = {o.environment, o.did, key->did_key()};
    auto store = storage::label_store::open(so);
    if (!store) throw std::runtime_error("seed_store: " + store.error().message);
    std::vector<seeded_label> out;
    out.reserve(labels.size());
    constexpr std::size_t batch = 1000;
    for (std::size_t i = 0; i < labels.size(); i += batch) {
        auto wb = (*store)->begin();
        std::size_t end = std::min(labels.size(), i + batch);
        for (std::size_t j = i; j < end; ++j) {
            auto& l = labels[j];
            l.sig = key->sign(atproto::signing_bytes(l));
            std::string cbor = atproto::encode_cbor(l);
            storage::label_fields f{l.src, l.uri, l.val, l.neg, l.cts, l.exp};
            std::uint64_t seq = wb.append(f, cbor);
            out.push_back({seq, l, std::move(cbor)});
        }
        auto committed = (*store)->commit(std::move(wb));
        if (!committed) throw std::runtime_error("seed_store: " + committed.error().message);
    }
    if (auto f = (*store)->flush(); !f) throw std::runtime_error("seed_store: " + f.error().message);
    return out;
}

// ---------------------------------------------------------------------------------------------
// labeler_process

std::unique_ptr<labeler_process> labeler_process::start(const fs::path& profile,
                                                        std::vector<std::string> extra_args,
                                                        std::chrono::milliseconds timeout) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
    std::vector<std::string> args{LABELER_BINARY, "run", "--config", profile.string()};
    for (auto& a : extra_args) args.push_back(a);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);

    pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
        ::dup2(fds[1], 1);
        ::dup2(fds[1], 2);
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    ::close(fds[1]);
    std::unique_ptr<labeler_process> p(new labeler_process());
    p->pid_ = pid;
    int rd = fds[0];
    p->reader_ = std::thread([self = p.get(), rd] {
        char buf[4096];
        for (;;) {
            ssize_t n = ::read(rd, buf, sizeof buf);
            if (n < 0 && errno == EINTR) continue;
            std::lock_guard lk(self->mu_);
            if (n <= 0) {
                self->eof_ = true;
                self->cv_.notify_all();
                break;
            }
            self->log_.append(buf, std::size_t(n));
            self->cv_.notify_all();
        }
        ::close(rd);
    });

    constexpr std::string_view needle = "listening on ";
    std::unique_lock lk(p->mu_);
    bool found = p->cv_.wait_for(lk, timeout, [&] {
        auto pos = p->log_.find(needle);
        return p->eof_ || (pos != std::string::npos && p->log_.find('\n', pos) != std::string::npos);
    });
    auto pos = p->log_.find(needle);
    if (!found || pos == std::string::npos) {
        std::string log = p->log_;
        lk.unlock();
        p->kill();
        throw std::runtime_error(std::string(found ? "random-labeler exited before listening"
                                                   : "random-labeler did not listen in time") +
                                 "; log:\n" + log);
    }
    auto eol = p->log_.find('\n', pos);
    std::string addr = p->log_.substr(pos + needle.size(), eol - pos - needle.size());
    auto end = addr.find_first_of(" \r\t");
    if (end != std::string::npos) addr.resize(end);
    auto colon = addr.rfind(':');
    p->port_ = std::uint16_t(std::stoul(addr.substr(colon + 1)));
    return p;
}

labeler_process::~labeler_process() {
    if (exit_status_ < 0 && pid_ > 0) kill();
    if (reader_.joinable()) reader_.join();
}

int labeler_process::wait_exit(std::chrono::milliseconds timeout) {
    if (exit_status_ >= 0) return exit_status_;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        int st = 0;
        pid_t r = ::waitpid(pid_, &st, WNOHANG);
        if (r == pid_) {
            exit_status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
            return exit_status_;
        }
        if (std::chrono::steady_clock::now() >= deadline) return -1;
        std::this_thread::sleep_for(10ms);  // polling a child; not a unit test
    }
}

int labeler_process::terminate(std::chrono::milliseconds timeout) {
    if (exit_status_ >= 0) return exit_status_;
    ::kill(pid_, SIGTERM);
    int st = wait_exit(timeout);
    if (st < 0) {
        ::kill(pid_, SIGKILL);
        wait_exit(60s);
        exit_status_ = -2;  // did not stop gracefully
        st = -2;
    }
    if (reader_.joinable()) reader_.join();
    return st;
}

void labeler_process::kill() {
    if (exit_status_ >= 0) return;
    ::kill(pid_, SIGKILL);
    wait_exit(60s);
    if (reader_.joinable()) reader_.join();
}

bool labeler_process::running() { return exit_status_ < 0 && wait_exit(0ms) < 0; }

std::string labeler_process::log() const {
    std::lock_guard lk(mu_);
    return log_;
}

bool labeler_process::wait_log(std::string_view needle, std::chrono::milliseconds timeout) const {
    std::unique_lock lk(mu_);
    return cv_.wait_for(lk, timeout, [&] { return log_.find(needle) != std::string::npos || eof_; }) &&
           log_.find(needle) != std::string::npos;
}

// ---------------------------------------------------------------------------------------------
// HTTP client

namespace {
// Runs `ioc` until `done` or the timeout; throws on timeout.
void run_until(asio::io_context& ioc, const bool& done, std::chrono::milliseconds timeout,
               const char* what) {
    ioc.restart();
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done) {
        auto now = std::chrono::steady_clock::now();
        if (now >= deadline) throw std::runtime_error(std::string(what) + ": timed out");
        ioc.run_one_for(deadline - now);
    }
}
}  // namespace

http_response http_request(std::uint16_t port, const std::string& method, const std::string& target,
                           const std::map<std::string, std::string>& headers,
                           const std::string& body, std::chrono::milliseconds timeout) {
    asio::io_context ioc;
    beast::tcp_stream stream(ioc);
    stream.expires_after(timeout);
    tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), port);
    http::request<http::string_body> req{http::string_to_verb(method), target, 11};
    req.set(http::field::host, "127.0.0.1");
    for (auto& [k, v] : headers) req.set(k, v);
    if (!body.empty() || method == "POST") {
        req.body() = body;
        req.prepare_payload();
    }
    beast::flat_buffer buf;
    http::response_parser<http::string_body> parser;
    parser.body_limit(256u << 20);
    beast::error_code err;
    bool done = false;
    stream.async_connect(ep, [&](beast::error_code ec) {
        if (ec) { err = ec; done = true; return; }
        http::async_write(stream, req, [&](beast::error_code ec, std::size_t) {
            if (ec) { err = ec; done = true; return; }
            http::async_read(stream, buf, parser, [&](beast::error_code ec, std::size_t) {
                err = ec;
                done = true;
            });
        });
    });
    run_until(ioc, done, timeout + 1s, "http_request");
    if (err) throw std::runtime_error("http_request " + target + ": " + err.message());
    auto& res = parser.get();
    http_response out;
    out.status = res.result_int();
    for (auto& f : res) {
        std::string name(f.name_string());
        std::transform(name.begin(), name.end(), name.begin(), ::tolower);
        out.headers[name] = std::string(f.value());
    }
    out.body = std::move(res.body());
    beast::error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    return out;
}

// ---------------------------------------------------------------------------------------------
// WebSocket client

struct ws_client::impl {
    asio::io_context ioc;
    websocket::stream<beast::tcp_stream> ws{ioc};
    beast::flat_buffer buf;
    bool reading = false;
    bool read_done = false;
    beast::error_code read_ec;
};

ws_client::ws_client() : impl_(std::make_unique<impl>()) {}
ws_client::~ws_client() {
    beast::error_code ec;
    beast::get_lowest_layer(impl_->ws).socket().close(ec);
}

unsigned ws_client::connect(std::uint16_t port, const std::string& target,
                            std::chrono::milliseconds timeout) {
    auto& s = *impl_;
    auto& sock = beast::get_lowest_layer(s.ws).socket();
    sock.open(tcp::v4());
    if (rcvbuf_ > 0) sock.set_option(asio::socket_base::receive_buffer_size(rcvbuf_));
    tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), port);
    beast::error_code err;
    bool done = false;
    websocket::response_type res;
    beast::get_lowest_layer(s.ws).expires_after(timeout);
    beast::get_lowest_layer(s.ws).async_connect(ep, [&](beast::error_code ec) {
        if (ec) { err = ec; done = true; return; }
        s.ws.async_handshake(res, "127.0.0.1:" + std::to_string(port), target,
                             [&](beast::error_code ec) {
                                 err = ec;
                                 done = true;
                             });
    });
    run_until(s.ioc, done, timeout + 1s, "ws connect");
    beast::get_lowest_layer(s.ws).expires_never();
    if (err && res.result_int() != 0 && res.result_int() != 101) {
        rejected_body_ = res.body();
        closed_ = true;
        return res.result_int();
    }
    if (err) throw std::runtime_error("ws connect " + target + ": " + err.message());
    s.ws.binary(true);
    return 101;
}

std::optional<std::string> ws_client::read_frame(std::chrono::milliseconds timeout) {
    auto& s = *impl_;
    if (closed_) return std::nullopt;
    if (!s.reading) {
        s.reading = true;
        s.read_done = false;
        s.buf.clear();
        s.ws.async_read(s.buf, [&s](beast::error_code ec, std::size_t) {
            s.read_ec = ec;
            s.read_done = true;
        });
    }
    s.ioc.restart();
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!s.read_done) {
        auto now = std::chrono::steady_clock::now();
        if (now >= deadline) return std::nullopt;
        s.ioc.run_one_for(deadline - now);
    }
    s.reading = false;
    if (s.read_ec) {
        closed_ = true;
        if (s.read_ec == websocket::error::closed) {
            close_code_ = s.ws.reason().code;
            close_reason_ = std::string(s.ws.reason().reason.data(), s.ws.reason().reason.size());
        }
        return std::nullopt;
    }
    return beast::buffers_to_string(s.buf.data());
}

void ws_client::close() {
    auto& s = *impl_;
    if (closed_) return;
    bool done = false;
    beast::get_lowest_layer(s.ws).expires_after(5s);
    s.ws.async_close(websocket::close_code::normal, [&](beast::error_code) { done = true; });
    try {
        run_until(s.ioc, done, 6s, "ws close");
    } catch (...) {
    }
    // A pending read completes with `closed` once the server answers.
    if (s.reading) {
        try {
            run_until(s.ioc, s.read_done, 6s, "ws close");
        } catch (...) {
        }
    }
    closed_ = true;
}

bool ws_client::ping(std::chrono::milliseconds timeout) {
    auto& s = *impl_;
    bool pong = false;
    s.ws.control_callback([&](websocket::frame_type kind, beast::string_view) {
        if (kind == websocket::frame_type::pong) pong = true;
    });
    bool sent = false;
    s.ws.async_ping({}, [&](beast::error_code) { sent = true; });
    // The pong is consumed by a read; keep one pending (frames read meanwhile are lost).
    s.ioc.restart();
    auto deadline = std::chrono::steady_clock::now() + timeout;
    if (!s.reading) {
        s.reading = true;
        s.read_done = false;
        s.buf.clear();
        s.ws.async_read(s.buf, [&s](beast::error_code ec, std::size_t) {
            s.read_ec = ec;
            s.read_done = true;
        });
    }
    while (!pong && !s.read_done && std::chrono::steady_clock::now() < deadline)
        s.ioc.run_one_for(deadline - std::chrono::steady_clock::now());
    s.ws.control_callback();
    (void)sent;
    return pong;
}

// ---------------------------------------------------------------------------------------------
// Frame decoding: a minimal strict DAG-CBOR reader for the frame envelope. Labels inside are
// decoded by atproto::decode_cbor (from their exact bytes).

namespace {
struct cbor_reader {
    std::string_view in;
    std::size_t pos = 0;

    bool head(std::uint8_t& major, std::uint64_t& arg) {
        if (pos >= in.size()) return false;
        auto b = std::uint8_t(in[pos++]);
        major = b >> 5;
        std::uint8_t ai = b & 31;
        if (ai < 24) { arg = ai; return true; }
        int n = ai == 24 ? 1 : ai == 25 ? 2 : ai == 26 ? 4 : ai == 27 ? 8 : 0;
        if (!n || pos + n > in.size()) return false;
        arg = 0;
        for (int i = 0; i < n; ++i) arg = (arg << 8) | std::uint8_t(in[pos++]);
        // shortest form
        if ((n == 1 && arg < 24) || (n == 2 && arg < 256) || (n == 4 && arg < 65536) ||
            (n == 8 && arg < (1ull << 32)))
            return false;
        return true;
    }
    bool text(std::string& out) {
        std::uint8_t m; std::uint64_t n;
        if (!head(m, n) || m != 3 || pos + n > in.size()) return false;
        out.assign(in.substr(pos, n));
        pos += n;
        return true;
    }
    // Skips one item; depth-limited.
    bool skip(int depth = 0) {
        if (depth > 16) return false;
        std::uint8_t m; std::uint64_t n;
        if (!head(m, n)) return false;
        switch (m) {
            case 0: case 1: return true;
            case 2: case 3:
                if (pos + n > in.size()) return false;
                pos += n;
                return true;
            case 4:
                for (std::uint64_t i = 0; i < n; ++i) if (!skip(depth + 1)) return false;
                return true;
            case 5:
                for (std::uint64_t i = 0; i < 2 * n; ++i) if (!skip(depth + 1)) return false;
                return true;
            case 6: return n == 42 && skip(depth + 1);
            default: return n == 20 || n == 21 || n == 22;
        }
    }
};
}  // namespace

result<decoded_frame> decode_frame(std::string_view bytes) {
    cbor_reader r{bytes};
    decoded_frame f;
    std::uint8_t m; std::uint64_t n;
    if (!r.head(m, n) || m != 5) return fail("frame header is not a map");
    bool have_op = false;
    for (std::uint64_t i = 0; i < n; ++i) {
        std::string k;
        if (!r.text(k)) return fail("frame header key is not text");
        if (k == "op") {
            std::uint8_t mm; std::uint64_t v;
            if (!r.head(mm, v) || (mm != 0 && mm != 1)) return fail("header op is not an integer");
            f.op = mm == 0 ? std::int64_t(v) : -1 - std::int64_t(v);
            have_op = true;
        } else if (k == "t") {
            if (!r.text(f.t)) return fail("header t is not text");
        } else {
            return fail("unknown header key " + k);
        }
    }
    if (!have_op) return fail("header without op");
    if (!r.head(m, n) || m != 5) return fail("frame body is not a map");
    bool have_seq = false, have_labels = false;
    for (std::uint64_t i = 0; i < n; ++i) {
        std::string k;
        if (!r.text(k)) return fail("body key is not text");
        if (k == "seq") {
            std::uint8_t mm; std::uint64_t v;
            if (!r.head(mm, v) || mm != 0) return fail("seq is not an unsigned integer");
            f.seq = v;
            have_seq = true;
        } else if (k == "labels") {
            std::uint8_t mm; std::uint64_t cnt;
            if (!r.head(mm, cnt) || mm != 4) return fail("labels is not an array");
            for (std::uint64_t j = 0; j < cnt; ++j) {
                std::size_t start = r.pos;
                if (!r.skip()) return fail("label item is malformed");
                std::string raw(bytes.substr(start, r.pos - start));
                auto l = atproto::decode_cbor(raw);
                if (!l) return fail("label does not decode: " + l.error().message);
                f.labels.push_back(std::move(*l));
                f.label_cbor.push_back(std::move(raw));
            }
            have_labels = true;
        } else if (k == "error") {
            if (!r.text(f.error)) return fail("error is not text");
        } else if (k == "message") {
            if (!r.text(f.message)) return fail("message is not text");
        } else if (k == "name") {
            if (!r.text(f.name)) return fail("name is not text");
        } else {
            return fail("unknown body key " + k);
        }
    }
    if (r.pos != bytes.size()) return fail("trailing bytes after the frame body");
    if (f.op == 1 && f.t == "#labels" && !(have_seq && have_labels))
        return fail("#labels body without seq or labels");
    if (f.op == -1 && f.error.empty()) return fail("error frame without error");
    return f;
}

// ---------------------------------------------------------------------------------------------
// queryLabels JSON

query_page parse_query_page(const std::string& body) {
    namespace json = boost::json;
    json::value v = json::parse(body);
    auto& o = v.as_object();
    query_page out;
    if (auto* c = o.if_contains("cursor")) out.cursor = std::string(c->as_string());
    for (auto& item : o.at("labels").as_array()) {
        auto& lo = item.as_object();
        atproto::label l;
        for (auto& [k, val] : lo) {
            if (k == "ver") l.ver = val.as_int64();
            else if (k == "src") l.src = val.as_string();
            else if (k == "uri") l.uri = val.as_string();
            else if (k == "cid") l.cid = std::string(val.as_string());
            else if (k == "val") l.val = val.as_string();
            else if (k == "neg") { l.neg = val.as_bool(); l.neg_present = true; }
            else if (k == "cts") l.cts = val.as_string();
            else if (k == "exp") l.exp = std::string(val.as_string());
            else if (k == "sig") {
                auto bytes = atproto::base64_decode(std::string(val.as_object().at("$bytes").as_string()));
                if (!bytes || bytes->size() != 64) throw std::runtime_error("bad sig in " + body);
                std::array<std::uint8_t, 64> sig;
                std::copy(bytes->begin(), bytes->end(), sig.begin());
                l.sig = sig;
            } else {
                throw std::runtime_error("unknown label key " + std::string(k));
            }
        }
        out.labels.push_back(std::move(l));
    }
    return out;
}

std::string json_string_field(const std::string& body, const std::string& key) {
    boost::system::error_code ec;
    auto v = boost::json::parse(body, ec);
    if (ec || !v.is_object()) return {};
    auto* f = v.as_object().if_contains(key);
    return f && f->is_string() ? std::string(f->as_string()) : std::string{};
}

bool verify_label(const atproto::label& l, const std::string& did_key) {
    if (!l.sig) return false;
    auto key = atproto::parse_did_key(did_key);
    if (!key) return false;
    auto msg = atproto::signing_bytes(l);
    return atproto::verify(*key, {reinterpret_cast<const std::uint8_t*>(msg.data()), msg.size()},
                           *l.sig);
}

// ---------------------------------------------------------------------------------------------
// /proc inspection

std::vector<std::uint16_t> listening_ports(int pid) {
    std::set<std::string> inodes;
    fs::path fd_dir = "/proc/" + std::to_string(pid) + "/fd";
    std::error_code ec;
    for (auto& e : fs::directory_iterator(fd_dir, ec)) {
        std::error_code ec2;
        auto target = fs::read_symlink(e.path(), ec2).string();
        if (target.rfind("socket:[", 0) == 0)
            inodes.insert(target.substr(8, target.size() - 9));
    }
    std::vector<std::uint16_t> ports;
    for (const char* table : {"tcp", "tcp6"}) {
        std::ifstream f("/proc/" + std::to_string(pid) + "/net/" + table);
        std::string line;
        std::getline(f, line);  // header
        while (std::getline(f, line)) {
            std::istringstream ls(line);
            std::string sl, local, remote, st, queues, tr, retr, uid, timeout, inode;
            ls >> sl >> local >> remote >> st >> queues >> tr >> retr >> uid >> timeout >> inode;
            if (st != "0A") continue;  // TCP_LISTEN
            if (!inodes.count(inode)) continue;
            auto colon = local.rfind(':');
            ports.push_back(std::uint16_t(std::stoul(local.substr(colon + 1), nullptr, 16)));
        }
    }
    return ports;
}

fs::path interop_dir() { return fs::path(LABELER_SOURCE_DIR) / "tests" / "interop"; }

}  // namespace labeler::e2e
