#pragma once
// Trimming a view, the one way every stage does it.
#include <string_view>

namespace invent_dispatch {

// Space and tab: HTTP's optional whitespace (RFC 9110 §5.6.3), and the
// padding of a template's {{ name }} or a header's list items.
inline constexpr std::string_view blanks = " \t";
// Those and line ends: what a config value, a token or a JSON token may carry.
inline constexpr std::string_view whitespace = " \t\r\n";

constexpr std::string_view trim_right(std::string_view text, std::string_view what = blanks) noexcept {
    const auto last = text.find_last_not_of(what);
    return text.substr(0, last == std::string_view::npos ? 0 : last + 1);
}

constexpr std::string_view trim(std::string_view text, std::string_view what = blanks) noexcept {
    const auto first = text.find_first_not_of(what);
    if (first == std::string_view::npos) return {};
    return trim_right(text.substr(first), what);
}

}   // namespace invent_dispatch
