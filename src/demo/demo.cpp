#include "invent_dispatch/demo.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <ostream>
#include <spdlog/spdlog.h>
#include <stdexcept>

#include "invent_dispatch/config.hpp"
#include "invent_dispatch/dispatcher.hpp"
#include "invent_dispatch/mock.hpp"

namespace invent_dispatch {
namespace {

namespace fs = std::filesystem;

// The sample ships in the source tree; a build run from elsewhere still finds it.
fs::path find_sample() {
    for (const fs::path& candidate : {fs::path("examples/contacts.csv"),
                                     fs::path(INVENT_DEMO_SAMPLE)}) {
        if (fs::exists(candidate)) return candidate;
    }
    throw std::runtime_error("cannot find examples/contacts.csv (run the demo from the project folder)");
}

// A folder of our own: a fresh name, mode 0700. A predictable name let
// anyone on the machine plant the folder, or links in it, beforehand.
fs::path make_results_folder() {
    std::string pattern = (fs::temp_directory_path() / "invent-dispatch-demo-XXXXXX").string();
    if (!::mkdtemp(pattern.data()))
        throw std::runtime_error(pattern + ": cannot create the demo's folder: " + std::strerror(errno));
    return pattern;
}

} // namespace

int run_demo(std::ostream& out, bool terminal) {
    mock_config mock;
    mock.latency = std::chrono::milliseconds(20);
    mock.latency_jitter = std::chrono::milliseconds(30);
    mock_server server(mock);

    const fs::path results_dir = make_results_folder();

    dispatch_config config;
    config.input.path = find_sample().string();
    config.defaults.title = "Spring offer for {{first_name}}";
    config.defaults.message = "Hi! I'm {{first_name}} from {{company}} and I'd like to hear about the offer.";
    config.base_url = server.url();
    config.endpoint = parse_endpoint(config.base_url);
    config.token = mock.token;
    config.concurrency = 32;
    config.results_path = (results_dir / "contacts.results.jsonl").string();
    config.summary_path = (results_dir / "summary.json").string();
    config.report_html_path = (results_dir / "report.html").string();

    out << "invent-dispatch demo: mock Invent API at " << server.url() << " (generated certificate)\n"
        << "dispatching " << config.input.path << " with --concurrency " << config.concurrency << "\n";
    dispatch_context context{&out, terminal, server.ca_pem(), {}};
    const int status = run_dispatch(config, context);
    out << "results journal: " << config.results_path << "\n"
        << "summary JSON:    " << *config.summary_path << "\n"
        << "HTML report:     " << *config.report_html_path << "\n";
    return status;
}

} // namespace invent_dispatch
