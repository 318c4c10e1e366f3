#pragma once
// A run of the binary against the bundled mock: a temporary folder holding the
// mock's CA, and the arguments and environment that point a run at it.
#include <algorithm>

#include "integration/support.hpp"
#include "invent_dispatch/mock.hpp"

namespace test_support {

struct session {
    explicit session(invent_dispatch::mock_config config = {}) : mock(std::move(config)) {
        write_file(dir / "ca.pem", mock.ca_pem());
    }
    std::vector<std::string> args(const fs::path& input, std::vector<std::string> extra = {}) const {
        std::vector<std::string> a{"run",      input.string(), "--base-url",
                                   mock.url(), "--ca-file",    (dir / "ca.pem").string()};
        a.insert(a.end(), extra.begin(), extra.end());
        return a;
    }
    env_map env() const { return {{"INVENT_API_TOKEN", mock_token}}; }

    std::string mock_token = "demo-token";
    temp_dir dir;
    invent_dispatch::mock_server mock;
};

// A batch of `rows` contacts run by the binary against a mock of its own:
// what the process said, its journal, the mock's stats and the summary.
struct batch {
    process_result result;
    std::vector<boost::json::object> journal;
    std::string stats;
    std::string summary;   // --summary's JSON
};

inline batch run_against(const invent_dispatch::mock_config& config, int rows, std::vector<std::string> extra = {}) {
    session s(config);
    s.mock_token = config.token;
    const auto input = s.dir / "contacts.csv";
    write_contacts_csv(input, rows);
    std::vector<std::string> flags{
        "--quiet", "--concurrency", "32", "--seed", "7", "--summary", (s.dir / "summary.json").string()};
    if (std::find(extra.begin(), extra.end(), "--timeout") == extra.end())
        flags.insert(flags.end(), {"--timeout", "5s"});
    flags.insert(flags.end(), extra.begin(), extra.end());
    batch b;
    b.result = run_binary(s.args(input, flags), s.env(), s.dir.path);
    b.journal = read_journal(s.dir / "contacts.csv.results.jsonl");
    b.stats = s.mock.stats_json();
    b.summary = read_file_if_any(s.dir / "summary.json");
    return b;
}

// How many answers had `status` ("429"), from the mock's stats.
inline std::int64_t responses_with(const std::string& stats, const char* status) {
    const auto parsed = boost::json::parse(stats);
    const auto* count = parsed.at("responses").as_object().if_contains(status);
    return count ? count->to_number<std::int64_t>() : 0;
}

// A mock that answers each request after `latency_ms`.
inline invent_dispatch::mock_config slow_mock(int latency_ms) {
    invent_dispatch::mock_config config;
    config.latency = std::chrono::milliseconds(latency_ms);
    return config;
}

}   // namespace test_support
