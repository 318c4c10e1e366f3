#pragma once
// The adaptive rate of `--rate auto[:MAX]` (SPEC §10): the request rate a
// server sustains, found from its answers. Pure logic over the time points
// the caller passes in (a fake clock in tests); the scheduler applies the
// rate to its token bucket.
//
// Probing: it starts at MAX; a 429 or 503 cuts the rate by `decrease`, once
// per round trip (answers to requests sent before the last cut do not cut
// again, since they only repeat what caused it); clean answers raise it
// every `raise_interval`, quickly back towards the rate of the last cut and
// then in small equal steps past it; never above MAX. A cut does not go
// below `accepted_share` of the rate the server accepted over the last second:
// a server that counts in windows refuses everything until its window
// drains, and without that floor each round trip of those refusals would
// cut again.
//
// Rate-limit headers take precedence: their quota per window, less a margin,
// becomes the ceiling in place of MAX (never above MAX), and the rate is set
// to it at once; a 429 still cuts (the quota may be shared), and the rate
// climbs back to the ceiling, not past it.
#include <array>
#include <chrono>
#include <cstdint>
#include <optional>

#include "invent_dispatch/rate_limit_headers.hpp"

namespace invent_dispatch {

class adaptive_rate {
public:
    using clock = std::chrono::steady_clock;

    static constexpr double decrease = 0.9;
    static constexpr double accepted_share = 0.95;   // of the accepted rate, the floor of a cut
    static constexpr auto raise_interval = std::chrono::milliseconds(100);
    static constexpr double recovery_share = 0.25;   // of the gap to the last cut's rate, per raise
    static constexpr double probe_step = 0.005;   // of the last cut's rate, per raise
    static constexpr double header_margin = 0.01;   // kept below an advertised quota
    static constexpr double min_rate = 1.0;   // per second (or MAX when lower)

    enum class change { none, cut, raise, advertised };

    explicit adaptive_rate(double max_per_second) noexcept;

    double current() const noexcept { return rate_; }
    double ceiling() const noexcept { return ceiling_; }

    // A request leaves: its sequence number, to hand back with its answer.
    std::uint64_t on_send() noexcept { return ++sent_; }

    // An HTTP answer to the request sent as `sequence` (transport failures
    // are not answers and say nothing about the rate). What it changed.
    change on_answer(std::uint64_t sequence, int status, const std::optional<advertised_limit>& advertised,
                     clock::time_point now) noexcept;

    // What the last change of the rate was (for the log line that tells it).
    change last_change() const noexcept { return last_change_kind_; }
    // The advertised quota per second the ceiling came from, once headers said one.
    std::optional<double> advertised_rate() const noexcept { return advertised_rate_; }

private:
    // Answers the server accepted (anything but 429/503), counted in tenths
    // of a second over the last second.
    struct accepted_counter {
        static constexpr std::size_t slots = 10;
        std::array<std::uint64_t, slots> counts{};
        std::array<std::int64_t, slots> slot_of{};   // which tenth each count belongs to
        void add(clock::time_point now) noexcept;
        // Per second, over the last ten tenths, the current one counted for
        // the part of it that has passed.
        double per_second(clock::time_point now) const noexcept;
    };

    std::optional<double> rate_from(const advertised_limit& advertised) noexcept;
    change cut(clock::time_point now) noexcept;
    change raise(clock::time_point now) noexcept;

    double max_;
    double floor_;
    double ceiling_;   // MAX, or the advertised quota less the margin
    double rate_;
    double last_cut_rate_;   // the rate in force at the last cut
    std::optional<double> advertised_rate_;
    double longest_reset_ = 0;   // the window, when only reset says it
    std::uint64_t sent_ = 0;
    std::uint64_t last_cut_sequence_ = 0;   // requests up to this one were sent before the cut
    clock::time_point last_change_{};
    change last_change_kind_ = change::none;
    accepted_counter accepted_;
};

}   // namespace invent_dispatch
