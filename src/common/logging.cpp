#include "invent_dispatch/logging.hpp"

#include <fmt/format.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "invent_dispatch/errors.hpp"

namespace invent_dispatch {

void configure_logging(const std::string& level, const std::optional<std::string>& log_file) {
    const auto parsed = spdlog::level::from_str(level);
    if (parsed == spdlog::level::off && level != "off")
        throw usage_error(fmt::format("--log-level: unknown level '{}' ({})", level, fmt::join(log_levels, ", ")));
    std::vector<spdlog::sink_ptr> sinks{std::make_shared<spdlog::sinks::stderr_color_sink_mt>()};
    if (log_file) {
        try {
            sinks.push_back(std::make_shared<spdlog::sinks::basic_file_sink_mt>(*log_file));
        } catch (const spdlog::spdlog_ex& e) {
            throw usage_error("--log-file " + *log_file + ": " + e.what());
        }
    }
    auto logger = std::make_shared<spdlog::logger>("invent-dispatch", sinks.begin(), sinks.end());
    logger->set_level(parsed);
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e [%l] %v");
    spdlog::set_default_logger(std::move(logger));
}

void log_escaped_exception::operator()(std::exception_ptr failure) const noexcept {
    if (!failure) return;
    try {
        std::rethrow_exception(failure);
    } catch (const std::exception& e) {
        spdlog::error("{} failed: {}", task, e.what());
    } catch (...) {
        spdlog::error("{} failed: an exception that is not a std::exception", task);
    }
}

}   // namespace invent_dispatch
