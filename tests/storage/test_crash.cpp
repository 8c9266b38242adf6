// Kills a writer process with SIGKILL in the middle of a stream of commits, reopens the
// store, and checks that every batch is fully present or fully absent, that seqs are
// 1..last_seq without duplicates, and that the cursor matches the last applied batch.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <random>

#include "storage/label_store.hpp"
#include "tests/storage/temp_dir.hpp"

using namespace labeler::storage;
using namespace labeler::storage::test;

namespace {

struct expected_entry {
    std::string uri;
    std::string cbor;
};

// The entries batch b appends, re-derived from crash_writer.cpp's shape.
std::vector<expected_entry> batch_entries(std::uint64_t b) {
    std::vector<expected_entry> out;
    for (std::uint64_t i = 0; i < b % 7 + 1; ++i) {
        auto uri = fmt::format("did:plc:b{}-{}", b, i);
        out.push_back({uri, fmt::format("b{}|{}|pos", b, uri)});
    }
    if (b % 4 == 0) {
        auto uri = fmt::format("did:plc:b{}-0", b - 1);
        out.push_back({uri, fmt::format("b{}|{}|neg", b, uri)});
    }
    return out;
}

// Runs the writer until it has printed `lines` commit lines, then SIGKILLs it.
// Returns the last batch number it reported.
std::uint64_t run_and_kill(const std::filesystem::path& dir, const char* mode, int lines) {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        ::dup2(fds[1], 1);
        ::close(fds[0]);
        ::close(fds[1]);
        ::execl(STORAGE_CRASH_WRITER, STORAGE_CRASH_WRITER, dir.c_str(), mode, (char*)nullptr);
        ::_exit(127);
    }
    ::close(fds[1]);
    FILE* in = ::fdopen(fds[0], "r");
    REQUIRE(in);
    std::uint64_t last = 0;
    int seen = 0;
    char line[128];
    while (seen < lines && std::fgets(line, sizeof line, in)) {
        unsigned long long b = 0, c = 0;
        REQUIRE(std::sscanf(line, "committed %llu %llu", &b, &c) == 2);
        CHECK(b == c);
        CHECK(b > last);
        last = b;
        ++seen;
    }
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    std::fclose(in);
    INFO("writer status " << status);
    REQUIRE(seen == lines);  // it did not die on its own
    CHECK(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGKILL);
    return last;
}

// Reopens the store and checks every invariant; returns the cursor (last applied batch).
std::uint64_t verify(const std::filesystem::path& dir, std::uint64_t at_least) {
    auto opened = label_store::open(test_options(dir));
    REQUIRE(opened);
    auto& s = **opened;
    auto cursor = s.cursor("crash");
    REQUIRE(cursor);
    // Commits that happened after the last line we read are allowed; lost ones are not.
    CHECK(*cursor >= at_least);

    auto log = s.read_log(0, 10'000'000);
    REQUIRE(log);
    std::size_t pos = 0;
    for (std::uint64_t b = 1; b <= *cursor; ++b) {
        for (auto& e : batch_entries(b)) {
            INFO("batch " << b << " entry " << e.uri);
            REQUIRE(pos < log->size());
            CHECK((*log)[pos].seq == pos + 1);  // 1..N: no gap, no duplicate
            CHECK((*log)[pos].cbor == e.cbor);
            ++pos;
        }
    }
    CHECK(log->size() == pos);  // nothing from a batch past the cursor
    CHECK(s.last_seq() == pos);
    CHECK(s.stats().log_entries == pos);
    CHECK(s.stats().follow_records == *cursor);
    auto b = s.begin();
    CHECK(b.follow_count(fmt::format("did:plc:b{}", *cursor)).value() == 1);
    CHECK(b.follow_count(fmt::format("did:plc:b{}", *cursor + 1)).value() == 0);
    CHECK(b.next_seq() == pos + 1);
    // State agrees with the log for the last batches.
    for (std::uint64_t bb = *cursor > 3 ? *cursor - 3 : 1; bb <= *cursor; ++bb) {
        auto st = s.state(fmt::format("did:plc:b{}-0", bb));
        REQUIRE(st);
        REQUIRE(st->labels.size() == 1);
        bool negated = bb < *cursor && (bb + 1) % 4 == 0;
        CHECK(st->labels[0].neg == negated);
    }
    return *cursor;
}

}  // namespace

TEST_CASE("SIGKILL during a stream of commits leaves whole batches only", "[storage][crash]") {
    temp_dir t;
    std::mt19937 rng(std::random_device{}());
    std::uint64_t cursor = 0;
    const char* modes[] = {"batch", "interval", "batch", "interval"};
    for (const char* mode : modes) {
        int lines = std::uniform_int_distribution<int>(3, 80)(rng);
        INFO("mode " << mode << ", killed after " << lines << " lines");
        auto last = run_and_kill(t.data(), mode, lines);
        CHECK(last >= cursor + std::uint64_t(lines));
        cursor = verify(t.data(), last);
    }
}
