#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <fmt/format.h>

#include "settings.hpp"

namespace invent_dispatch {
namespace {

// from_chars for a whole string: trailing garbage is malformed, not ignored.
template <typename T>
std::optional<T> whole_number(std::string_view text) noexcept {
    T value{};
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc{} || ptr != end) return std::nullopt;
    return value;
}

// "30s" -> {30, "s"}: the leading decimal number and the unit after it.
std::optional<std::pair<double, std::string_view>> number_and_unit(std::string_view text) noexcept {
    const auto unit_at = text.find_first_not_of("0123456789.");
    const auto number = whole_number<double>(text.substr(0, unit_at));
    if (!number || !std::isfinite(*number) || *number < 0) return std::nullopt;
    return std::pair{*number, unit_at == std::string_view::npos ? std::string_view{} : text.substr(unit_at)};
}

// The units of a rate: requests per unit.
struct rate_unit {
    std::string_view name;
    double seconds;
};
constexpr std::array<rate_unit, 8> rate_units{{
    {"s", 1},
    {"sec", 1},
    {"second", 1},
    {"min", 60},
    {"minute", 60},
    {"h", 3600},
    {"hr", 3600},
    {"hour", 3600},
}};

}   // namespace

std::optional<double> parse_rate(std::string_view text) noexcept {
    const auto slash = text.find('/');
    const std::string_view number = text.substr(0, slash);
    double unit_seconds = 1;
    if (slash != std::string_view::npos) {
        const std::string_view unit = text.substr(slash + 1);
        const auto* found =
            std::find_if(rate_units.begin(), rate_units.end(), [&](const rate_unit& u) { return u.name == unit; });
        if (found == rate_units.end()) return std::nullopt;
        unit_seconds = found->seconds;
    }
    double value = 0;
    const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
    if (ec != std::errc{} || end != number.data() + number.size()) return std::nullopt;
    const double per_second = value / unit_seconds;
    // Also rejects "nan", "inf", and a tiny rate that underflows to zero.
    if (!std::isfinite(per_second) || !(per_second > 0)) return std::nullopt;
    return per_second;
}

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) noexcept {
    const auto parsed = number_and_unit(trim(text, whitespace));
    if (!parsed) return std::nullopt;
    const auto [number, unit] = *parsed;
    double millis_per_unit = 0;
    if (unit.empty() || unit == "s")
        millis_per_unit = 1000;
    else if (unit == "ms")
        millis_per_unit = 1;
    else if (unit == "m" || unit == "min")
        millis_per_unit = 60'000;
    else if (unit == "h")
        millis_per_unit = 3'600'000;
    else
        return std::nullopt;
    const double millis = std::round(number * millis_per_unit);
    // Beyond a year is a typo, and keeps the cast below in range.
    if (millis > 365.0 * 24 * 3'600'000) return std::nullopt;
    return std::chrono::milliseconds(static_cast<std::int64_t>(millis));
}

std::optional<shard_spec> parse_shard(std::string_view text) noexcept {
    text = trim(text, whitespace);
    const auto slash = text.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    const auto index = whole_number<std::uint32_t>(text.substr(0, slash));
    const auto count = whole_number<std::uint32_t>(text.substr(slash + 1));
    if (!index || !count || *index >= *count) return std::nullopt;
    return shard_spec{*index, *count};
}

namespace config_detail {
namespace {
[[noreturn]] void fail(const std::string& origin, const std::string& problem) {
    throw usage_error(fmt::format("{}: {}", origin, problem));
}
}   // namespace

std::vector<std::string> split_list(const std::vector<std::string>& texts) {
    std::vector<std::string> items;
    for (std::string_view text : texts) {
        while (!text.empty()) {
            const auto comma = std::min(text.find(','), text.size());
            if (const auto item = trim(text.substr(0, comma), whitespace); !item.empty()) items.emplace_back(item);
            text.remove_prefix(std::min(comma + 1, text.size()));
        }
    }
    return items;
}

std::uint64_t parse_integer(const setting_value& v, std::uint64_t min, std::uint64_t max) {
    const auto value = whole_number<std::uint64_t>(trim(v.text(), whitespace));
    if (!value || *value < min || *value > max)
        fail(v.origin, fmt::format("expected a whole number from {} to {}, got '{}'", min, max, v.text()));
    return *value;
}

double parse_number(const std::string& text, const std::string& origin) {
    const auto value = whole_number<double>(trim(text, whitespace));
    if (!value || !std::isfinite(*value) || *value < 0)
        fail(origin, fmt::format("expected a non-negative number, got '{}'", text));
    return *value;
}

double parse_probability(const std::string& text, const std::string& origin) {
    const auto value = whole_number<double>(trim(text, whitespace));
    if (!value || !(*value >= 0 && *value <= 1))
        fail(origin, fmt::format("expected a probability from 0 to 1, got '{}'", text));
    return *value;
}

double parse_rate_per_second(const std::string& text, const std::string& origin) {
    const auto value = parse_rate(trim(text, whitespace));
    if (!value) fail(origin, fmt::format("expected a rate such as 8, 8/s or 480/min, got '{}'", text));
    return *value;
}

std::chrono::milliseconds parse_duration_value(const setting_value& v) {
    const auto value = parse_duration(v.text());
    if (!value) fail(v.origin, fmt::format("expected a duration such as 500ms, 30s, 2m or 1h, got '{}'", v.text()));
    return *value;
}

std::string format_duration(std::chrono::milliseconds value) {
    const auto ms = value.count();
    if (ms != 0 && ms % 3'600'000 == 0) return fmt::format("{}h", ms / 3'600'000);
    if (ms != 0 && ms % 60'000 == 0) return fmt::format("{}m", ms / 60'000);
    if (ms % 1'000 == 0) return fmt::format("{}s", ms / 1'000);
    return fmt::format("{}ms", ms);
}

}   // namespace config_detail
}   // namespace invent_dispatch
