// SPEC §9's series in the Prometheus text exposition format, and the
// textfile collector's write-then-rename.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fmt/format.h>

#include "invent_dispatch/metrics.hpp"
#include "invent_dispatch/unique_fd.hpp"

namespace invent_dispatch {
namespace {

constexpr std::array<outcome, 5> final_outcomes{outcome::created, outcome::failed, outcome::invalid, outcome::skipped,
                                                outcome::unknown};

// Label values escape backslash, double quote and line feed.
std::string label_value(std::string_view text) {
    std::string out;
    for (const char c : text) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '"')
            out += "\\\"";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

// Numbers as Prometheus parses them: integers exactly, others shortest round-trip.
std::string number(double value) {
    return fmt::format("{}", value);
}

class exposition {
public:
    explicit exposition(std::string input) : input_label_("input=\"" + label_value(input) + "\"") {}

    void family(std::string_view name, std::string_view type, std::string_view help) {
        text_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
    }
    void sample(std::string_view name, std::string_view labels, std::string_view value) {
        text_ += fmt::format("{}{{{}{}{}}} {}\n", name, input_label_, labels.empty() ? "" : ",", labels, value);
    }
    std::string take() { return std::move(text_); }

private:
    std::string input_label_;
    std::string text_;
};

}   // namespace

std::string prometheus_text(const metrics_snapshot& m) {
    exposition out(m.input);
    out.family("invent_dispatch_rows_total", "counter", "Rows finished in the last run, by outcome.");
    for (const auto o : final_outcomes)
        out.sample("invent_dispatch_rows_total", fmt::format("outcome=\"{}\"", to_string(o)),
                   std::to_string(m.rows_by_outcome[static_cast<std::size_t>(o)]));

    out.family("invent_dispatch_requests_total", "counter",
               "Each row's last request, by HTTP status (none: no answer); earlier attempts are retries.");
    for (const auto& [status, count] : m.requests_by_status)
        out.sample("invent_dispatch_requests_total",
                   fmt::format("status=\"{}\"", status ? std::to_string(status) : std::string("none")),
                   std::to_string(count));

    out.family("invent_dispatch_retries_total", "counter", "Attempts after a row's first.");
    out.sample("invent_dispatch_retries_total", "", std::to_string(m.retries));

    out.family("invent_dispatch_request_duration_seconds", "histogram",
               "Time from sending a row's last request to its whole answer.");
    for (std::size_t i = 0; i < duration_buckets::bounds_seconds.size(); ++i)
        out.sample("invent_dispatch_request_duration_seconds_bucket",
                   fmt::format("le=\"{}\"", number(duration_buckets::bounds_seconds[i])),
                   std::to_string(m.durations.cumulative(i)));
    out.sample("invent_dispatch_request_duration_seconds_bucket", "le=\"+Inf\"", std::to_string(m.durations.count()));
    out.sample("invent_dispatch_request_duration_seconds_sum", "", number(m.durations.sum_seconds()));
    out.sample("invent_dispatch_request_duration_seconds_count", "", std::to_string(m.durations.count()));

    out.family("invent_dispatch_in_flight", "gauge", "Requests sent and not yet answered.");
    out.sample("invent_dispatch_in_flight", "", std::to_string(m.in_flight));

    out.family("invent_dispatch_rate_limit_pauses_total", "counter",
               "Pauses of the whole dispatcher for a Retry-After.");
    out.sample("invent_dispatch_rate_limit_pauses_total", "", std::to_string(m.rate_limit_pauses));

    out.family("invent_dispatch_rate_current", "gauge",
               "The request rate in force, requests/s (--rate auto: the one found); absent without a rate.");
    if (m.rate_per_second) out.sample("invent_dispatch_rate_current", "", number(*m.rate_per_second));

    out.family("invent_dispatch_last_run_start_timestamp_seconds", "gauge", "When the last run started (Unix time).");
    if (m.run_start_seconds)
        out.sample("invent_dispatch_last_run_start_timestamp_seconds", "", number(*m.run_start_seconds));
    out.family("invent_dispatch_last_run_end_timestamp_seconds", "gauge",
               "When the last run ended (Unix time); absent while it runs.");
    if (m.run_end_seconds) out.sample("invent_dispatch_last_run_end_timestamp_seconds", "", number(*m.run_end_seconds));
    out.family("invent_dispatch_last_run_exit_code", "gauge", "The last run's exit status; absent while it runs.");
    if (m.exit_code) out.sample("invent_dispatch_last_run_exit_code", "", std::to_string(*m.exit_code));
    return out.take();
}

std::error_code write_file_atomically(const std::string& path, std::string_view text) {
    namespace fs = std::filesystem;
    const fs::path target(path);
    // A dot name: the textfile collector reads only *.prom, and a crash leaves no look-alike.
    std::string temporary = (target.parent_path() / ("." + target.filename().string() + ".XXXXXX")).string();
    unique_fd file(::mkostemp(temporary.data(), O_CLOEXEC));
    if (!file) return {errno, std::generic_category()};
    const int fd = file.get();
    const auto fail = [&](int error) {
        file.reset();
        ::unlink(temporary.c_str());
        return std::error_code(error, std::generic_category());
    };
    for (std::size_t written = 0; written < text.size();) {
        const auto n = ::write(fd, text.data() + written, text.size() - written);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail(errno);
        written += static_cast<std::size_t>(n);
    }
    // mkostemp makes 0600; a scraper usually runs as another user.
    if (::fchmod(fd, 0644) != 0 || ::fsync(fd) != 0) return fail(errno);
    if (file.close() != 0) {
        const int error = errno;
        ::unlink(temporary.c_str());
        return {error, std::generic_category()};
    }
    if (::rename(temporary.c_str(), path.c_str()) != 0) {
        const int error = errno;
        ::unlink(temporary.c_str());
        return {error, std::generic_category()};
    }
    return {};
}

}   // namespace invent_dispatch
