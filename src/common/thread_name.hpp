#pragma once
// Names the calling thread (Linux: at most 15 bytes, longer names are cut), so `top -H`,
// `ps -L`, gdb and perf show which part of the labeler a thread is.
#include <pthread.h>

#include <string>
#include <string_view>

namespace labeler {

inline void name_this_thread(std::string_view name) {
    std::string n(name.substr(0, 15));
    ::pthread_setname_np(::pthread_self(), n.c_str());
}

}  // namespace labeler
