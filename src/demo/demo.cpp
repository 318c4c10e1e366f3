#include "invent_dispatch/demo.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <ostream>
#include <stdexcept>

#include "invent_dispatch/config.hpp"
#include "invent_dispatch/contacts.hpp"
#include "invent_dispatch/dispatcher.hpp"
#include "invent_dispatch/mock.hpp"

namespace invent_dispatch {
namespace {

namespace fs = std::filesystem;

constexpr const char* demo_segment = "seg_spring";

// A folder of our own: a fresh name, mode 0700. A predictable name let
// anyone on the machine plant the folder, or links in it, beforehand.
fs::path make_results_folder() {
    std::string pattern = (fs::temp_directory_path() / "invent-dispatch-demo-XXXXXX").string();
    if (!::mkdtemp(pattern.data()))
        throw std::runtime_error(pattern + ": cannot create the demo's folder: " + std::strerror(errno));
    return pattern;
}

}   // namespace

int run_demo(std::ostream& out, bool terminal) {
    mock_config mock;
    mock.latency = std::chrono::milliseconds(20);
    mock.latency_jitter = std::chrono::milliseconds(30);
    mock_server server(mock);

    const fs::path results_dir = make_results_folder();

    dispatch_config config;
    config.base_url = server.url();
    config.client.endpoint = parse_endpoint(config.base_url);
    config.client.token = mock.token;
    config.client.extra_ca_pem = server.ca_pem();
    config.concurrency = 32;
    out << "invent-dispatch demo: mock Invent API at " << server.url() << " (generated certificate, " << mock.contacts
        << " contacts)\n";

    // 1. The segment from Invent's listing, as `contacts --segment-id seg_spring --out spring.csv`.
    contacts_config listing;
    listing.query.segment_id = demo_segment;
    listing.out_path = (results_dir / "spring.csv").string();
    out << "listing segment " << demo_segment << " into " << *listing.out_path << "\n";
    const int listed = run_contacts(config, listing, contacts_context{nullptr, &out, terminal});
    if (listed != exit_ok) return listed;

    // 2. One chat per row, as `run spring.csv --title ... --message ...`.
    config.input.path = *listing.out_path;
    config.defaults.title = "Spring offer for {{contact_name}}";
    config.defaults.message = "Hi {{contact_name}}! I'd like to hear about the spring offer.";
    config.results_path = (results_dir / "spring.csv.results.jsonl").string();
    config.summary_path = (results_dir / "summary.json").string();
    config.report_html_path = (results_dir / "report.html").string();
    out << "dispatching " << config.input.path << " with --concurrency " << config.concurrency << "\n";
    const int status = run_dispatch(config, dispatch_context{&out, terminal, {}});
    out << "results journal: " << config.results_path << "\n"
        << "summary JSON:    " << *config.summary_path << "\n"
        << "HTML report:     " << *config.report_html_path << "\n";
    return status;
}

}   // namespace invent_dispatch
