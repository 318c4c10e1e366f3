#pragma once
#include <optional>
#include <string>

namespace invent_dispatch {

// spdlog on stderr (and a file with --log-file), at the given level.
// Throws usage_error for an unknown level or an unwritable file.
void configure_logging(const std::string& level, const std::optional<std::string>& log_file);

} // namespace invent_dispatch
