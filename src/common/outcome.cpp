#include "invent_dispatch/chat_request.hpp"

#include <array>

namespace invent_dispatch {
namespace {
constexpr std::array<std::string_view, 6> outcome_names{"created", "failed",  "invalid",
                                                        "skipped", "unknown", "sending"};
}

std::string_view to_string(outcome o) noexcept {
    return outcome_names[static_cast<std::size_t>(o)];
}

std::optional<outcome> parse_outcome(std::string_view s) noexcept {
    for (std::size_t i = 0; i < outcome_names.size(); ++i)
        if (outcome_names[i] == s) return static_cast<outcome>(i);
    return std::nullopt;
}

}   // namespace invent_dispatch
