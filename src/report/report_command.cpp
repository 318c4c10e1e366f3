// `invent-dispatch report`: journals in, the summary out, and the files asked for.
#include <fmt/format.h>

#include <ostream>
#include <sstream>

#include "invent_dispatch/journal_records.hpp"
#include "invent_dispatch/journal_report.hpp"

namespace invent_dispatch {
namespace {

void write_or_throw(const std::string& path, std::string_view text, std::string_view what) {
    if (const auto ec = write_file_atomically(path, text))
        throw journal_error(fmt::format("{}: cannot write the {}: {}", path, what, ec.message()));
}

std::string html_of(const batch_report& report) {
    std::ostringstream html;
    write_html_report(report, html);
    return std::move(html).str();
}

}   // namespace

void write_html_report_file(const std::vector<std::string>& journals, const std::string& path, std::ostream& warnings) {
    const batch_report report(journals, warnings);
    write_or_throw(path, html_of(report), "HTML report");
}

int run_report_command(const report_config& config, std::ostream& out, std::ostream& err) {
    try {
        const batch_report report(config.journals, err);
        const auto summary = report.summary();
        write_summary_table(summary, out);
        if (config.json_path) {
            std::ostringstream json;
            write_summary_json(summary, json);
            write_or_throw(*config.json_path, json.str(), "summary");
        }
        if (config.html_path) write_or_throw(*config.html_path, html_of(report), "HTML report");
        if (config.metrics_path) write_or_throw(*config.metrics_path, prometheus_text(report.metrics()), "metrics");
    } catch (const journal_error& e) {
        err << "invent-dispatch: " << e.what() << "\n";
        return 2;   // SPEC §7: unreadable input
    }
    return 0;
}

}   // namespace invent_dispatch
