// The small parsers of settings and headers: duration, rate, shard,
// Retry-After (at a fuzzed "now") and the base URL. None may crash or
// overflow (UBSan), and what they accept holds its promises.
#include <chrono>
#include <cmath>

#include "fuzz_support.hpp"
#include "invent_dispatch/config.hpp"
#include "invent_dispatch/retry_after.hpp"
#include "invent_dispatch/scheduler.hpp"

using namespace invent_dispatch;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::input_cursor in(data, size);
    const auto which = in.byte() % 5;
    // Retry-After's "now": any second from 1970 to about 2242 (the clock's nanoseconds end in 2262).
    std::uint64_t now_seconds = 0;
    for (int i = 0; i < 5; ++i) now_seconds = now_seconds << 8 | in.byte();
    const std::chrono::system_clock::time_point now{std::chrono::seconds(now_seconds % (std::uint64_t{1} << 33))};
    const std::string text(in.rest());
    switch (which) {
    case 0:
        if (const auto d = parse_duration(text)) FUZZ_CHECK(d->count() >= 0);
        break;
    case 1:
        if (const auto r = parse_rate(text)) FUZZ_CHECK(*r > 0 && std::isfinite(*r));
        break;
    case 2:
        if (const auto s = parse_shard(text)) FUZZ_CHECK(s->index < s->count);
        break;
    case 3: {
        if (const auto delay = parse_retry_after(text, now))
            FUZZ_CHECK(*delay >= duration::zero() && *delay <= max_retry_after);
        const auto today = std::chrono::system_clock::time_point{} + std::chrono::hours(24 * 20'000);
        if (const auto delay = parse_retry_after(text, today))
            FUZZ_CHECK(*delay >= duration::zero() && *delay <= max_retry_after);
        break;
    }
    case 4:
        try {
            const auto endpoint = parse_endpoint(text);
            FUZZ_CHECK(!endpoint.host.empty() && !endpoint.port.empty());
            for (const char c : endpoint.host)
                FUZZ_CHECK(static_cast<unsigned char>(c) > 0x20 && c != 0x7F && c != '%');
        } catch (const usage_error&) {
        }
        break;
    }
    return 0;
}
