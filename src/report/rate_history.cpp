#include <algorithm>

#include "invent_dispatch/report.hpp"

namespace invent_dispatch {

void rate_history::set(double per_second, std::chrono::steady_clock::time_point now) {
    if (current_) ended_.push_back({*current_, now - since_});
    current_ = per_second;
    since_ = now;
}

std::optional<double> rate_history::current() const noexcept {
    return current_;
}

std::optional<rate_history::figures> rate_history::summarize(std::chrono::steady_clock::time_point now) const {
    if (!current_) return std::nullopt;
    std::vector<span> spans = ended_;
    spans.push_back({*current_, now - since_});
    std::sort(spans.begin(), spans.end(), [](const span& a, const span& b) { return a.per_second < b.per_second; });
    std::chrono::steady_clock::duration total{};
    for (const auto& s : spans) total += s.lasted;
    // The rate in force at the middle of the run's time, counted from the
    // lowest rate up; with no time at all, the middle span.
    double median = spans[spans.size() / 2].per_second;
    if (total.count() > 0) {
        std::chrono::steady_clock::duration seen{};
        for (const auto& s : spans) {
            seen += s.lasted;
            if (seen * 2 >= total) {
                median = s.per_second;
                break;
            }
        }
    }
    return figures{spans.front().per_second, median, *current_};
}

}   // namespace invent_dispatch
