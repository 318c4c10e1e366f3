#include <fmt/format.h>

#include <cmath>
#include <ctime>
#include <iomanip>
#include <sstream>

#include "settings.hpp"

namespace invent_dispatch::config_detail {
namespace po = boost::program_options;
namespace {

// IMF-fixdate, the form RFC 9110 says a server sends; the mock only needs to
// refuse a typo, the dispatcher's parser reads the rest.
bool is_http_date(const std::string& text) {
    std::tm tm{};
    std::istringstream in(text);
    in >> std::get_time(&tm, "%a, %d %b %Y %H:%M:%S GMT");
    return !in.fail() && in.peek() == std::char_traits<char>::eof();
}

}   // namespace

po::options_description mock_options() {
    po::options_description mock("Options for mock", help_width, help_description_width);
    // clang-format off
    mock.add_options()
        ("host", po::value<std::string>()->value_name("ADDR")->default_value("127.0.0.1"), "address to listen on")
        ("port", po::value<std::string>()->value_name("N")->default_value("0"), "port (0: a free one, printed at start)")
        ("plain", po::bool_switch(), "serve plain HTTP instead of HTTPS")
        ("token", po::value<std::string>()->value_name("TOKEN"), "the bearer token to accept (default: env INVENT_API_TOKEN, else demo-token)")
        ("cert-out", po::value<std::string>()->value_name("PATH"), "write the generated CA certificate (PEM) here")
        ("latency", po::value<std::string>()->value_name("MS[,JITTER]"), "answer after MS milliseconds, plus up to JITTER more")
        ("error-rate", po::value<std::vector<std::string>>()->composing()->value_name("STATUS=P,..."), "answer STATUS with probability P, e.g. 500=0.05,503=0.02")
        ("rate-limit", po::value<std::string>()->value_name("R[/s]"), "answer 429 above R requests per second per token (any one-second window)")
        ("rate-limit-headers", po::value<std::string>()->value_name("STYLE")->default_value("none"), "advertise the limit: draft (RateLimit, RateLimit-Policy), x (X-RateLimit-*) or none")
        ("rate-limit-after", po::value<std::string>()->value_name("SECONDS:R"), "change the limit to R this long after the first create request")
        ("retry-after", po::value<std::string>()->value_name("SECONDS|HTTP-DATE")->default_value("1"), "Retry-After sent with 429")
        ("drop-before-response", po::value<std::string>()->value_name("P"), "read the request, create the chat, close without answering (the ambiguous case)")
        ("drop-on-accept", po::value<std::string>()->value_name("P"), "close before reading the request (safe to retry)")
        ("max-requests-per-connection", po::value<std::string>()->value_name("N"), "the Nth request on a connection gets Connection: close (0: unlimited)")
        ("idle-timeout", po::value<std::string>()->value_name("MS"), "close keep-alive connections idle this long")
        ("malformed-rate", po::value<std::string>()->value_name("P"), "answer 200 with a broken body, creating nothing")
        ("honour-idempotency", po::bool_switch(), "a repeated Idempotency-Key returns the chat it first created")
        ("contacts", po::value<std::string>()->value_name("N"), fmt::format("contacts in the listing GET /orgs/{{org}}/contacts (default {})", mock_config{}.contacts).c_str())
        ("seed", po::value<std::string>()->value_name("N")->default_value("1"), "seed for the fault knobs");
    // clang-format on
    return mock;
}

mock_config parse_mock_flags(const std::vector<std::string>& args, const environment& env) {
    const auto vm = parse_flags(args, mock_options(), {}, {});
    // Mock knobs come only from flags, so each origin is its flag.
    const auto flag = [&](const char* name) -> std::optional<setting_value> {
        if (!vm.count(name)) return std::nullopt;
        return setting_value{{vm[name].as<std::string>()}, fmt::format("--{}", name)};
    };
    const auto probability = [&](const char* name) {
        const auto v = flag(name);
        return v ? parse_probability(v->text(), v->origin) : 0.0;
    };

    mock_config mock;
    mock.host = vm["host"].as<std::string>();
    mock.port = static_cast<std::uint16_t>(parse_integer(*flag("port"), 0, 65535));
    mock.plain = vm["plain"].as<bool>();
    if (auto v = flag("token"))
        mock.token = v->text();
    else if (auto token = env_value(env, "INVENT_API_TOKEN"))
        mock.token = std::string(trim(*token, whitespace));
    if (auto v = flag("cert-out")) mock.cert_out = v->text();
    if (auto v = flag("latency")) {
        const auto parts = split_list(v->texts);
        if (parts.empty() || parts.size() > 2)
            throw usage_error(fmt::format("{}: expected MS[,JITTER], got '{}'", v->origin, v->text()));
        mock.latency = std::chrono::milliseconds(parse_integer({{parts[0]}, v->origin}, 0, 3'600'000));
        if (parts.size() == 2)
            mock.latency_jitter = std::chrono::milliseconds(parse_integer({{parts[1]}, v->origin}, 0, 3'600'000));
    }
    if (vm.count("error-rate")) {
        const std::string origin = "--error-rate";
        double total = 0;
        for (const auto& item : split_list(vm["error-rate"].as<std::vector<std::string>>())) {
            const auto equals = item.find('=');
            if (equals == std::string::npos)
                throw usage_error(fmt::format("{}: expected STATUS=P, got '{}'", origin, item));
            const auto status = static_cast<int>(parse_integer({{item.substr(0, equals)}, origin}, 100, 599));
            const auto p = parse_probability(item.substr(equals + 1), origin);
            mock.error_rates.emplace_back(status, p);
            total += p;
        }
        if (total > 1) throw usage_error(fmt::format("{}: the probabilities add up to {}, more than 1", origin, total));
    }
    if (auto v = flag("rate-limit")) mock.rate_limit = parse_rate_per_second(v->text(), v->origin);
    if (auto v = flag("rate-limit-headers")) {
        const auto& style = v->text();
        if (style == "draft")
            mock.rate_limit_headers = mock_config::limit_headers::draft;
        else if (style == "x")
            mock.rate_limit_headers = mock_config::limit_headers::x;
        else if (style != "none")
            throw usage_error(fmt::format("{}: expected draft, x or none, got '{}'", v->origin, style));
    }
    if (auto v = flag("rate-limit-after")) {
        const auto& text = v->text();
        const auto colon = text.find(':');
        if (colon == std::string::npos)
            throw usage_error(fmt::format("{}: expected SECONDS:R, e.g. 30:150/s, got '{}'", v->origin, text));
        const auto after = parse_number(text.substr(0, colon), v->origin);
        mock.rate_limit_after = mock_config::rate_limit_change{
            std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(std::min(after, 1e9) * 1000))),
            parse_rate_per_second(text.substr(colon + 1), v->origin)};
    }
    if (auto v = flag("retry-after")) {
        const auto& text = v->text();
        const bool seconds = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
        if (!seconds && !is_http_date(text))
            throw usage_error(fmt::format(
                "{}: expected seconds or an HTTP date (Sun, 06 Nov 1994 08:49:37 GMT), got '{}'", v->origin, text));
        mock.retry_after = text;
    }
    mock.drop_before_response = probability("drop-before-response");
    mock.drop_on_accept = probability("drop-on-accept");
    if (auto v = flag("max-requests-per-connection"))
        mock.max_requests_per_connection = static_cast<unsigned>(parse_integer(*v, 0, UINT32_MAX));
    if (auto v = flag("idle-timeout")) mock.idle_timeout = std::chrono::milliseconds(parse_integer(*v, 0, 86'400'000));
    mock.malformed_rate = probability("malformed-rate");
    mock.honour_idempotency = vm["honour-idempotency"].as<bool>();
    mock.seed = parse_integer(*flag("seed"), 0, UINT64_MAX);
    if (auto v = flag("contacts")) mock.contacts = parse_integer(*v, 0, 1'000'000);
    return mock;
}

}   // namespace invent_dispatch::config_detail
