#include "invent_dispatch/scheduler.hpp"

#include <algorithm>
#include <cmath>
#include <ratio>
#include <type_traits>

namespace invent_dispatch {
namespace {

// Everything below counts in nanoseconds.
static_assert(std::is_same_v<duration::period, std::nano>);

constexpr std::uint64_t fraction_one = std::uint64_t{1} << 32;

// Bounds that keep a nonsensical --rate or --burst from overflowing the
// nanosecond arithmetic: one grant per ~11.6 days, a tolerance of ~3 years.
constexpr long double max_interval_ns = 1e15L;
constexpr long double max_tolerance_ns = 1e17L;

}   // namespace

token_bucket::token_bucket(rate_limit limit) noexcept : burst_(std::max(limit.burst, 1.0)) {
    set_interval(limit.per_second);
}

void token_bucket::set_rate(double per_second, time_point now) noexcept {
    const long double old_interval = interval_ns();
    const time_point old_arrival = theoretical_arrival_;
    const std::uint64_t old_fraction = arrival_fraction_;
    set_interval(per_second);
    // A raise keeps the theoretical arrival time: the grants already made
    // stay ahead, and the new interval applies after them. A cut carries the
    // grants owed (the arrival time ahead of now, in intervals) over at the
    // new interval, so the next grant is as late as if they had all been
    // made at the new rate: burst + rate*T holds over any window that starts
    // at the cut, the grants already made included.
    if (!started_ || old_arrival <= now || interval_ns() <= old_interval) return;
    const long double owed =
        static_cast<long double>((old_arrival - now).count()) + static_cast<long double>(old_fraction) / fraction_one;
    const long double ahead = std::min(owed / old_interval * interval_ns(), max_tolerance_ns + max_interval_ns);
    const long double whole = std::floor(ahead);
    theoretical_arrival_ = now + duration(static_cast<duration::rep>(whole));
    arrival_fraction_ = static_cast<std::uint64_t>(std::llround((ahead - whole) * fraction_one));
    if (arrival_fraction_ >= fraction_one) {
        theoretical_arrival_ += duration(1);
        arrival_fraction_ -= fraction_one;
    }
}

void token_bucket::set_interval(double per_second) noexcept {
    const long double interval_ns = std::min(1e9L / per_second, max_interval_ns);
    const long double whole = std::floor(interval_ns);
    auto fraction = static_cast<std::uint64_t>(std::llround((interval_ns - whole) * fraction_one));
    auto whole_ns = static_cast<duration::rep>(whole);
    if (fraction == fraction_one) {   // the fraction rounded up to a whole nanosecond
        ++whole_ns;
        fraction = 0;
    }
    interval_ = duration(whole_ns);
    interval_fraction_ = fraction;
    // Rounded down: a tolerance a hair too small only makes the bucket stricter.
    tolerance_ =
        duration(static_cast<duration::rep>(std::floor(std::min((burst_ - 1.0) * interval_ns, max_tolerance_ns))));
}

long double token_bucket::interval_ns() const noexcept {
    return static_cast<long double>(interval_.count()) + static_cast<long double>(interval_fraction_) / fraction_one;
}

time_point token_bucket::reserve(time_point now) noexcept {
    if (!started_) {
        // Empty at the start (see the header): the burst is owed to no one yet.
        started_ = true;
        theoretical_arrival_ = now + tolerance_;
        arrival_fraction_ = 0;
    }
    // An idle bucket refills up to the burst and no further: the theoretical
    // arrival time never lags behind now.
    if (theoretical_arrival_ < now) {
        theoretical_arrival_ = now;
        arrival_fraction_ = 0;
    }
    // The grant is rounded up to the next whole nanosecond, never down, so
    // the bound burst + rate*T holds exactly in every window.
    const time_point arrival_ceil = theoretical_arrival_ + duration(arrival_fraction_ != 0 ? 1 : 0);
    const time_point grant = std::max(now, arrival_ceil - tolerance_);

    theoretical_arrival_ += interval_;
    arrival_fraction_ += interval_fraction_;
    if (arrival_fraction_ >= fraction_one) {
        theoretical_arrival_ += duration(1);
        arrival_fraction_ -= fraction_one;
    }
    return grant;
}

}   // namespace invent_dispatch
