#pragma once
#include <array>
#include <exception>
#include <optional>
#include <string>
#include <string_view>

namespace invent_dispatch {

// --log-level's values, quietest last.
inline constexpr std::array<std::string_view, 6> log_levels{"trace", "debug", "info", "warn", "error", "off"};

// spdlog on stderr (and a file with --log-file), at the given level.
// Throws usage_error for an unknown level or an unwritable file.
void configure_logging(const std::string& level, const std::optional<std::string>& log_file);

// co_spawn's completion handler for a task nobody waits for: an exception
// escaping it is logged as "<task> failed: <what>" instead of vanishing, as
// it would with `detached`.
struct log_escaped_exception {
    const char* task;
    void operator()(std::exception_ptr failure) const noexcept;
};

}   // namespace invent_dispatch
