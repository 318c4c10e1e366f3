// The report's bounded tallies: Prometheus duration buckets and the most
// frequent error reasons.
#include <algorithm>

#include "invent_dispatch/report.hpp"

namespace invent_dispatch {

void duration_buckets::record(std::uint64_t micros) noexcept {
    const double seconds = static_cast<double>(micros) / 1e6;
    const auto bucket = std::lower_bound(bounds_seconds.begin(), bounds_seconds.end(), seconds);
    if (bucket != bounds_seconds.end()) ++counts_[static_cast<std::size_t>(bucket - bounds_seconds.begin())];
    ++count_;   // above the last bound: only in +Inf, which is the count
    sum_micros_ += micros;
}

std::uint64_t duration_buckets::cumulative(std::size_t i) const noexcept {
    std::uint64_t sum = 0;
    for (std::size_t b = 0; b <= i && b < counts_.size(); ++b) sum += counts_[b];
    return sum;
}

void error_tally::add(std::string_view reason, std::string_view example) {
    ++total_;
    // C++20's unordered_map has no heterogeneous find without a custom hash: one
    // string per failed row is cheap next to the journal line it came from.
    std::string key(reason);
    auto found = reasons_.find(key);
    if (found == reasons_.end()) {
        if (reasons_.size() < capacity_) {
            found = reasons_.emplace(key, error_reason{key, 0, 0, {}}).first;
        } else {
            // Space-saving: the least frequent reason makes room and leaves its count behind.
            const auto least = std::min_element(reasons_.begin(), reasons_.end(), [](const auto& a, const auto& b) {
                return a.second.count < b.second.count;
            });
            const auto inherited = least->second.count;
            reasons_.erase(least);
            found = reasons_.emplace(key, error_reason{key, inherited, inherited, {}}).first;
        }
    }
    auto& entry = found->second;
    ++entry.count;
    if (entry.examples.size() < examples_kept) entry.examples.emplace_back(example);
}

std::vector<error_reason> error_tally::top(std::size_t n) const {
    std::vector<error_reason> all;
    all.reserve(reasons_.size());
    for (const auto& [reason, entry] : reasons_) all.push_back(entry);
    std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
        return a.count != b.count ? a.count > b.count : a.reason < b.reason;
    });
    if (all.size() > n) all.resize(n);
    return all;
}

}   // namespace invent_dispatch
