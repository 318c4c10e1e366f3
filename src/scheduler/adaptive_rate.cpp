#include "invent_dispatch/adaptive_rate.hpp"

#include <algorithm>

namespace invent_dispatch {
namespace {

constexpr auto accepted_slot = std::chrono::milliseconds(100);

std::int64_t slot_number(adaptive_rate::clock::time_point now) noexcept {
    return now.time_since_epoch() / accepted_slot;
}

}   // namespace

void adaptive_rate::accepted_counter::add(clock::time_point now) noexcept {
    const auto slot = slot_number(now);
    const auto i = static_cast<std::size_t>(slot) % slots;
    if (slot_of[i] != slot) {
        slot_of[i] = slot;
        counts[i] = 0;
    }
    ++counts[i];
}

double adaptive_rate::accepted_counter::per_second(clock::time_point now) const noexcept {
    const auto slot = slot_number(now);
    std::uint64_t total = 0;
    for (std::size_t i = 0; i < slots; ++i)
        if (slot - slot_of[i] >= 0 && slot - slot_of[i] < static_cast<std::int64_t>(slots)) total += counts[i];
    const std::chrono::duration<double> into_slot = now.time_since_epoch() - slot * accepted_slot;
    const double covered =
        static_cast<double>(slots - 1) * std::chrono::duration<double>(accepted_slot).count() + into_slot.count();
    return static_cast<double>(total) / covered;
}

adaptive_rate::adaptive_rate(double max_per_second) noexcept
    : max_(max_per_second),
      floor_(std::min(min_rate, max_per_second)),
      ceiling_(max_per_second),
      rate_(max_per_second),
      last_cut_rate_(max_per_second) {}

adaptive_rate::change adaptive_rate::on_answer(std::uint64_t sequence, int status,
                                               const std::optional<advertised_limit>& advertised,
                                               clock::time_point now) noexcept {
    const bool refused = status == 429 || status == 503;
    if (!refused) accepted_.add(now);

    if (advertised) {
        if (const auto quota_rate = rate_from(*advertised)) {
            const double ceiling = std::clamp(*quota_rate * (1 - header_margin), floor_, max_);
            if (ceiling != ceiling_) {
                // The server said what it allows: go there at once. Answers
                // to requests sent before this say nothing about the new rate.
                ceiling_ = ceiling;
                rate_ = ceiling;
                last_cut_rate_ = ceiling;
                last_cut_sequence_ = sent_;
                last_change_ = now;
                last_change_kind_ = change::advertised;
                return change::advertised;
            }
        }
    }
    // Only answers to requests sent at the rate now in force count: the
    // earlier ones repeat what the last change already answered.
    if (sequence <= last_cut_sequence_) return change::none;
    if (refused) return cut(now);
    if (rate_ < ceiling_ && now - last_change_ >= raise_interval) return raise(now);
    return change::none;
}

std::optional<double> adaptive_rate::rate_from(const advertised_limit& advertised) noexcept {
    if (!advertised.limit) return std::nullopt;
    double window = 0;
    if (advertised.window) {
        window = *advertised.window;
    } else if (advertised.reset) {
        // No policy names the window: the longest time to a reset seen so
        // far is the nearest lower bound of it (at least a second, so an
        // early short reset does not make the rate look huge).
        longest_reset_ = std::max(longest_reset_, *advertised.reset);
        window = std::max(longest_reset_, 1.0);
    } else {
        return std::nullopt;
    }
    advertised_rate_ = *advertised.limit / window;
    return advertised_rate_;
}

adaptive_rate::change adaptive_rate::cut(clock::time_point now) noexcept {
    const double before = rate_;
    const double accepted_floor = accepted_.per_second(now) * accepted_share;
    rate_ = std::max(floor_, std::min(rate_, std::max(rate_ * decrease, accepted_floor)));
    last_cut_rate_ = before;
    last_cut_sequence_ = sent_;
    last_change_ = now;
    if (rate_ == before) return change::none;
    last_change_kind_ = change::cut;
    return change::cut;
}

adaptive_rate::change adaptive_rate::raise(clock::time_point now) noexcept {
    const double step = std::max(recovery_share * (last_cut_rate_ - rate_), probe_step * last_cut_rate_);
    rate_ = std::min(ceiling_, rate_ + step);
    last_change_ = now;
    last_change_kind_ = change::raise;
    return change::raise;
}

}   // namespace invent_dispatch
