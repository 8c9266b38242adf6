#include "src/server/hub.hpp"

namespace labeler::server {

bool hub::add(const std::shared_ptr<subscriber>& s) {
    std::lock_guard lk(mu_);
    if (closed_) return false;
    subs_[s.get()] = s;
    return true;
}

void hub::remove(const subscriber* s) {
    std::lock_guard lk(mu_);
    subs_.erase(s);
}

std::vector<std::shared_ptr<subscriber>> hub::snapshot() const {
    std::vector<std::shared_ptr<subscriber>> out;
    std::lock_guard lk(mu_);
    out.reserve(subs_.size());
    for (auto& [_, w] : subs_)
        if (auto s = w.lock()) out.push_back(std::move(s));
    return out;
}

void hub::publish(const frame_batch& batch) {
    for (auto& s : snapshot()) s->deliver(batch);
}

void hub::close_all() {
    closed_ = true;
    for (auto& s : snapshot()) s->shutdown();
}

std::size_t hub::size() const {
    std::lock_guard lk(mu_);
    return subs_.size();
}

}  // namespace labeler::server
