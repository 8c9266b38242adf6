#pragma once
// labeler::result<T>: the error channel for untrusted input, I/O and startup.
//
// An `error` carries a machine-checkable code (per-module enums convert to int) and a
// human-readable message that names what was wrong ("file: key: problem"). Broken invariants
// are not errors: they abort.
#include <boost/system/result.hpp>

#include <source_location>
#include <string>
#include <utility>

namespace labeler {

struct error {
    int code = 1;            // module-specific; 0 is never used for an error
    std::string message;     // complete sentence fragment, no trailing newline

    error() = default;
    error(std::string msg) : message(std::move(msg)) {}  // NOLINT(google-explicit-constructor)
    error(int c, std::string msg) : code(c), message(std::move(msg)) {}
};

// Thrown by result<T>::value() on an error; also usable for fail-fast startup paths.
struct error_exception : std::runtime_error {
    explicit error_exception(const error& e) : std::runtime_error(e.message), err(e) {}
    error err;
};

[[noreturn]] inline void throw_exception_from_error(const error& e,
                                                    const boost::source_location&) {
    throw error_exception(e);
}

template <class T>
using result = boost::system::result<T, error>;

// Shorthand for `return fail("...")` inside functions returning result<T>.
inline error fail(std::string msg) { return error(std::move(msg)); }
inline error fail(int code, std::string msg) { return error(code, std::move(msg)); }

}  // namespace labeler
