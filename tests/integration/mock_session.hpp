#pragma once
// A run of the binary against the bundled mock: a temporary folder holding the
// mock's CA, and the arguments and environment that point a run at it.
#include "integration/support.hpp"
#include "invent_dispatch/mock.hpp"

namespace test_support {

struct session {
    explicit session(invent_dispatch::mock_config config = {}) : mock(std::move(config)) {
        write_text(dir / "ca.pem", mock.ca_pem());
    }
    std::vector<std::string> args(const fs::path& input, std::vector<std::string> extra = {}) const {
        std::vector<std::string> a{"run", input.string(), "--base-url", mock.url(),
                                   "--ca-file", (dir / "ca.pem").string()};
        a.insert(a.end(), extra.begin(), extra.end());
        return a;
    }
    env_map env() const { return {{"INVENT_API_TOKEN", mock_token}}; }

    std::string mock_token = "demo-token";
    temp_dir dir;
    invent_dispatch::mock_server mock;
};

// A mock that answers each request after `latency_ms`.
inline invent_dispatch::mock_config slow_mock(int latency_ms) {
    invent_dispatch::mock_config config;
    config.latency = std::chrono::milliseconds(latency_ms);
    return config;
}

} // namespace test_support
