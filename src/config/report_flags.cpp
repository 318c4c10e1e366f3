#include <fmt/format.h>

#include "settings.hpp"

namespace invent_dispatch::config_detail {
namespace po = boost::program_options;

po::options_description report_options() {
    po::options_description report("Options for report", help_width, help_description_width);
    // clang-format off
    report.add_options()
        ("json", po::value<std::string>()->value_name("PATH"), "write the summary as JSON here")
        ("html", po::value<std::string>()->value_name("PATH"), "write the HTML report here (one file, no script)")
        ("metrics", po::value<std::string>()->value_name("PATH"), "write the Prometheus text here");
    // clang-format on
    return report;
}

report_config parse_report_flags(const std::vector<std::string>& args) {
    po::options_description hidden;
    hidden.add_options()("journal", po::value<std::vector<std::string>>());
    po::positional_options_description positional;
    positional.add("journal", -1);
    const auto vm = parse_flags(args, report_options(), hidden, positional);
    report_config config;
    if (vm.count("journal")) config.journals = vm["journal"].as<std::vector<std::string>>();
    if (config.journals.empty()) throw usage_error("missing JOURNAL: invent-dispatch report [options] JOURNAL...");
    if (vm.count("json")) config.json_path = vm["json"].as<std::string>();
    if (vm.count("html")) config.html_path = vm["html"].as<std::string>();
    if (vm.count("metrics")) config.metrics_path = vm["metrics"].as<std::string>();
    return config;
}

}   // namespace invent_dispatch::config_detail
