#pragma once
// frame_queue: the bounded queue between the source thread (producer) and the writer thread
// (consumer). push() blocks while the queue holds `capacity` frames, which blocks the source's
// read loop: backpressure reaches TCP and nothing piles up in memory. Cursor-only markers
// (frames whose events were all filtered out) are coalesced with a marker at the tail, so a
// stream of ignored events costs one slot. close() wakes everyone: pushes then fail, pops drain
// what is left. Thread-safe (one mutex); no allocation beyond the deque's.
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <vector>

#include "pipeline/event.hpp"

namespace labeler::pipeline {

class frame_queue {
public:
    explicit frame_queue(std::size_t capacity) : capacity_(capacity ? capacity : 1) {}

    // Enqueues a frame with events, blocking while full. False once closed (item dropped).
    bool push(frame_item&& item) {
        std::unique_lock lk(mu_);
        if (items_.size() >= capacity_) {
            ++blocked_;
            not_full_.wait(lk, [&] { return closed_ || items_.size() < capacity_; });
            --blocked_;
        }
        if (closed_) return false;
        if (!item.events.empty()) ++event_items_;
        items_.push_back(std::move(item));
        not_empty_.notify_one();
        return true;
    }

    // Records that the source moved to `cursor` without events for the writer. Coalesced with
    // a marker at the tail (then it never blocks). False once closed.
    bool push_marker(std::uint64_t cursor, bool has_cursor, std::int64_t time_us) {
        {
            std::lock_guard lk(mu_);
            if (closed_) return false;
            if (!items_.empty() && items_.back().events.empty()) {
                auto& m = items_.back();
                if (has_cursor) m.cursor = cursor, m.has_cursor = true;
                if (time_us) m.time_us = time_us;
                return true;
            }
        }
        frame_item m;
        m.cursor = cursor;
        m.has_cursor = has_cursor;
        m.time_us = time_us;
        return push(std::move(m));
    }

    // Waits for at least one frame; moves up to `max` into `out` (appending). False when the
    // queue is closed and empty.
    bool pop(std::vector<frame_item>& out, std::size_t max) {
        std::unique_lock lk(mu_);
        not_empty_.wait(lk, [&] { return closed_ || !items_.empty(); });
        if (items_.empty()) return false;
        take(out, max);
        return true;
    }

    // Moves up to `max` frames into `out` without waiting; returns how many.
    std::size_t try_pop(std::vector<frame_item>& out, std::size_t max) {
        std::lock_guard lk(mu_);
        return take(out, max);
    }

    // Waits until a frame with events is queued, the queue is closed, or `deadline` passes.
    void wait_for_events(std::chrono::steady_clock::time_point deadline) {
        std::unique_lock lk(mu_);
        not_empty_.wait_until(lk, deadline, [&] { return closed_ || event_items_ > 0; });
    }

    void close() {
        std::lock_guard lk(mu_);
        closed_ = true;
        not_full_.notify_all();
        not_empty_.notify_all();
    }

    std::size_t size() const { std::lock_guard lk(mu_); return items_.size(); }
    std::size_t capacity() const { return capacity_; }
    // Producers currently blocked in push() because the queue is full.
    std::size_t blocked_producers() const { std::lock_guard lk(mu_); return blocked_; }
    bool closed() const { std::lock_guard lk(mu_); return closed_; }

private:
    std::size_t take(std::vector<frame_item>& out, std::size_t max) {
        std::size_t n = 0;
        while (!items_.empty() && n < max) {
            if (!items_.front().events.empty()) --event_items_;
            out.push_back(std::move(items_.front()));
            items_.pop_front();
            ++n;
        }
        if (n) not_full_.notify_all();
        return n;
    }

    const std::size_t capacity_;
    mutable std::mutex mu_;
    std::condition_variable not_full_, not_empty_;
    std::deque<frame_item> items_;
    std::size_t event_items_ = 0;
    std::size_t blocked_ = 0;
    bool closed_ = false;
};

}  // namespace labeler::pipeline
