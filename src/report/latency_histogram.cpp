#include <algorithm>
#include <bit>
#include <cmath>

#include "invent_dispatch/report.hpp"

namespace invent_dispatch {

std::size_t latency_histogram::index_of(std::uint64_t micros) noexcept {
    constexpr std::uint64_t exact_below = std::uint64_t{1} << sub_bucket_bits;
    constexpr std::uint64_t half = exact_below / 2;
    if (micros < exact_below) return static_cast<std::size_t>(micros);
    // shift >= 1 puts micros >> shift in [half, exact_below): one of `half` buckets.
    const unsigned shift = static_cast<unsigned>(std::bit_width(micros)) - sub_bucket_bits;
    return static_cast<std::size_t>(exact_below + (shift - 1) * half + ((micros >> shift) - half));
}

std::uint64_t latency_histogram::midpoint_of(std::size_t index) noexcept {
    constexpr std::size_t exact_below = std::size_t{1} << sub_bucket_bits;
    constexpr std::size_t half = exact_below / 2;
    if (index < exact_below) return index;
    const auto shift = static_cast<unsigned>((index - exact_below) / half + 1);
    const std::uint64_t lower = static_cast<std::uint64_t>((index - exact_below) % half + half) << shift;
    return lower + (std::uint64_t{1} << (shift - 1));
}

void latency_histogram::record(std::uint64_t micros) noexcept {
    ++counts_[index_of(micros)];
    ++total_;
    max_ = std::max(max_, micros);
}

std::uint64_t latency_histogram::count() const noexcept {
    return total_;
}

std::uint64_t latency_histogram::count_at_most(std::uint64_t micros) const noexcept {
    if (micros >= max_) return total_;
    std::uint64_t seen = 0;
    const auto last = index_of(micros);
    for (std::size_t i = 0; i <= last; ++i) seen += counts_[i];
    return seen;
}

void latency_histogram::merge(const latency_histogram& other) noexcept {
    for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
    total_ += other.total_;
    max_ = std::max(max_, other.max_);
}

std::uint64_t latency_histogram::max() const noexcept {
    return max_;
}

std::uint64_t latency_histogram::percentile(double p) const noexcept {
    if (total_ == 0) return 0;
    // The smallest recorded value with at least p% of the samples at or below it.
    const double wanted = std::ceil(std::clamp(p, 0.0, 100.0) / 100.0 * static_cast<double>(total_));
    const auto rank = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(wanted));
    if (rank >= total_) return max_;   // the top sample is known exactly
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < counts_.size(); ++i) {
        seen += counts_[i];
        if (seen >= rank) return std::min(midpoint_of(i), max_);
    }
    return max_;
}

}   // namespace invent_dispatch
