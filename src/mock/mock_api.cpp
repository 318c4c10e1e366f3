// The mock's answers: routing, bearer check, body validation, fault
// decisions and the ledger, in the order SPEC §7 and the mock's README give.
#include "mock_api.hpp"

#include "invent_dispatch/encoding.hpp"

#include <boost/url/parse.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <ctime>

namespace invent_dispatch::mock_detail {
namespace {

constexpr std::string_view control_prefix = "/_mock/";
constexpr std::size_t max_title_code_points = 256;

struct chat_route {
    std::string org_id, contact_id, channel_id;   // percent-decoded
};

// "/orgs/{org}/contacts/{contact}/channels/{channel}/chats", query ignored.
// Segments are decoded, so "a%2Fb" is the one id "a/b"; a segment that is
// empty or not UTF-8 once decoded names nothing Invent could hold.
std::optional<chat_route> match_chat_route(std::string_view target) {
    const auto parsed = boost::urls::parse_origin_form(target);
    if (!parsed) return std::nullopt;
    const auto segments = parsed->segments();
    if (segments.size() != 7) return std::nullopt;
    std::string parts[7];
    std::size_t i = 0;
    for (std::string segment : segments) parts[i++] = std::move(segment);
    if (parts[0] != "orgs" || parts[2] != "contacts" || parts[4] != "channels" || parts[6] != "chats")
        return std::nullopt;
    for (const std::size_t id : {1u, 3u, 5u})
        if (parts[id].empty() || !simdjson::validate_utf8(parts[id].data(), parts[id].size())) return std::nullopt;
    return chat_route{std::move(parts[1]), std::move(parts[3]), std::move(parts[5])};
}

std::size_t count_code_points(std::string_view utf8) {
    return static_cast<std::size_t>(
        std::count_if(utf8.begin(), utf8.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

struct chat_body {
    std::string_view title;
    std::string_view assistant_id;
};

// Returns why the body is not a valid create-chat body, or "" and fills `out`
// (views into `json`'s document). The DOM parser, not On Demand, because it
// validates the whole document: a broken value in a field we never read must
// still be a 400, as it would be from Invent.
std::string_view validate_body(request& req, simdjson::dom::parser& json, chat_body& out) {
    auto& body = req.body();
    body.reserve(body.size() + simdjson::SIMDJSON_PADDING);
    simdjson::dom::element document;
    if (json.parse(body.data(), body.size(), false).get(document)) return "the body is not valid JSON";
    simdjson::dom::object object;
    if (document.get_object().get(object)) return "the body must be a JSON object";
    for (const auto field : object) {
        if (field.key == "title") {
            if (field.value.get_string().get(out.title)) return "title must be a string";
            if (count_code_points(out.title) > max_title_code_points) return "title must be at most 256 characters";
        } else if (field.key == "assistant_id") {
            if (field.value.get_string().get(out.assistant_id)) return "assistant_id must be a string";
        } else if (field.key == "message") {
            simdjson::dom::array parts;
            if (field.value.get_array().get(parts)) return "message must be an array";
            if (parts.size() == 0) return "message must have at least one part";
            for (const auto part : parts) {
                std::string_view type;
                if (part["type"].get_string().get(type) || type != "text")
                    return "every message part must have type \"text\"";
                simdjson::dom::element text;
                if (const auto missing = part["text"].get(text);
                    missing != simdjson::NO_SUCH_FIELD && (missing || !text.is_string()))
                    return "message text must be a string";
            }
        }
    }
    return {};
}

std::string rfc3339_now() {
    const auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm utc{};
    gmtime_r(&now, &utc);
    char text[32];
    const auto size = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return std::string(text, size);
}

reply json_reply(http::status status, std::string body) {
    reply r;
    r.message.result(status);
    r.message.version(11);
    r.message.set(http::field::server, "invent-dispatch-mock");
    r.message.set(http::field::content_type, "application/json");
    r.message.body() = std::move(body);
    return r;
}

std::string message_body(std::string_view message) {
    std::string body = R"({"message":")";
    append_json_escaped(body, message);
    body += "\"}";
    return body;
}

// A 200 whose body is a Chat cut off halfway (inside `state`, before `link`):
// what a proxy or a crashed worker can produce. A client that reads only the
// first fields without checking the document would wrongly call it a chat.
std::string make_malformed_body(const chat_template& chat) {
    std::string whole;
    chat.render(whole, {"chat_malformed", "", "", "c", "", "", "2000-01-01T00:00:00Z"});
    whole.resize(whole.size() / 2);
    return whole;
}

}   // namespace

mock_api::mock_api(const mock_config& config)
    : config_(config),
      expected_authorization_("Bearer " + config.token),
      malformed_body_(make_malformed_body(chat_)),
      contacts_(config.contacts, config.seed),
      random_(config.seed) {}

void mock_api::note_resumed_session() {
    std::lock_guard lock(mutex_);
    ++counters_.resumed_sessions;
}

void mock_api::note_idle_close() {
    std::lock_guard lock(mutex_);
    ++counters_.idle_closed;
}

bool mock_api::accept_connection() {
    std::lock_guard lock(mutex_);
    ++counters_.connections;
    if (!draw(config_.drop_on_accept)) return true;
    ++counters_.dropped_on_accept;
    return false;
}

reply mock_api::handle(request& req, simdjson::dom::parser& json) {
    if (req.target().starts_with(control_prefix)) return handle_control(req);

    const bool authorized = req[http::field::authorization] == expected_authorization_;
    const auto route = match_chat_route(req.target());
    const bool is_create = route && req.method() == http::verb::post;
    const auto listing = !route && is_listing_target(req.target())
                             ? std::optional<listing_request>(parse_listing_query(req.target()))
                             : std::nullopt;
    // Validated before taking the lock (it is the costly part); its verdict
    // is used only where the order of checks puts it.
    chat_body body;
    const std::string_view invalid = is_create ? validate_body(req, json, body) : "";
    const auto now = clock::now();

    std::unique_lock lock(mutex_);
    ++counters_.requests;
    if (is_create) note_arrival(now);
    if (!authorized) return error(http::status::unauthorized, "missing or invalid bearer token");
    if (listing) return list_contacts(req, *listing, now, lock);
    if (!route) return error(http::status::not_found, "no such route");
    if (!is_create) {
        auto r = error(http::status::method_not_allowed, "only POST creates a chat");
        r.message.set(http::field::allow, "POST");
        return r;
    }
    bool refused = false;
    const auto limit = apply_rate_limit(now, refused);
    // Every create answer from here on tells the limit, when asked to.
    const auto advertised = [&](reply r) {
        advertise(r, limit);
        return r;
    };
    if (refused) {
        ++second_of(now).refused;
        return advertised(error(http::status::too_many_requests, "rate limit exceeded"));
    }
    if (const auto status = draw_error_status())
        return advertised(error(static_cast<http::status>(*status), "injected failure"));
    if (!invalid.empty()) return advertised(error(http::status::bad_request, invalid));
    // Decided before the create step because a malformed answer creates nothing.
    if (draw(config_.malformed_rate)) {
        ++counters_.malformed;
        return advertised(finish(json_reply(http::status::ok, malformed_body_)));
    }

    const std::string_view idempotency_key =
        config_.honour_idempotency ? std::string_view(req["Idempotency-Key"]) : std::string_view{};
    stored_chat chat;
    bool created = false;
    const auto seen =
        idempotency_key.empty() ? by_idempotency_key_.end() : by_idempotency_key_.find(std::string(idempotency_key));
    if (seen != by_idempotency_key_.end()) {
        chat = seen->second;
        ++counters_.idempotent_replays;
    } else {
        chat = {"chat_" + std::to_string(next_chat_++),
                std::string(body.title),
                std::string(body.assistant_id),
                route->org_id,
                route->contact_id,
                route->channel_id,
                rfc3339_now(),
                make_chat_key(route->org_id, route->contact_id, route->channel_id)};
        auto& entry = ledger_[chat.key];
        ++entry.count;
        entry.ids.push_back(chat.id);
        ++counters_.created;
        ++second_of(now).created;
        created = true;
        if (!idempotency_key.empty()) by_idempotency_key_.emplace(idempotency_key, chat);
    }
    if (draw(config_.drop_before_response)) {
        ++counters_.dropped_before_response;
        if (created) ++ledger_[chat.key].ambiguous;
        reply dropped;
        dropped.drop = true;
        return dropped;
    }
    auto r = advertised(finish(json_reply(http::status::ok, {})));
    lock.unlock();

    const chat_fields fields{chat.id,         chat.title,      chat.assistant_id, chat.org_id,
                             chat.contact_id, chat.channel_id, chat.timestamp};
    chat_.render(r.message.body(), fields);
    return r;
}

// The same order of decisions as a create: rate limit, injected errors, the
// request's own problems, malformed, drop, latency.
reply mock_api::list_contacts(const request& req, const listing_request& listing, clock::time_point now,
                              std::unique_lock<std::mutex>& lock) {
    if (req.method() != http::verb::get) {
        auto r = error(http::status::method_not_allowed, "only GET lists contacts");
        r.message.set(http::field::allow, "GET");
        return r;
    }
    bool refused = false;
    apply_rate_limit(now, refused);
    if (refused) return error(http::status::too_many_requests, "rate limit exceeded");
    if (const auto status = draw_error_status()) return error(static_cast<http::status>(*status), "injected failure");
    if (!listing.problem.empty()) return error(http::status::bad_request, listing.problem);
    const bool malformed = draw(config_.malformed_rate);
    if (malformed) ++counters_.malformed;
    if (draw(config_.drop_before_response)) {
        ++counters_.dropped_before_response;
        reply dropped;
        dropped.drop = true;
        return dropped;
    }
    if (!malformed) ++counters_.listed_pages[listing.query.page];
    auto r = finish(json_reply(http::status::ok, {}));
    lock.unlock();

    // The directory is read-only: the page is written outside the lock.
    auto page = contacts_.render_page(listing.query);
    // A page cut off halfway, as a proxy or a crashed worker can leave it.
    if (malformed) page.body.resize(page.body.size() / 2);
    r.message.body() = std::move(page.body);
    r.message.set("pagination-count", std::to_string(page.total));
    r.message.set("pagination-page", std::to_string(listing.query.page));
    r.message.set("pagination-take", std::to_string(listing.query.take));
    return r;
}

reply mock_api::reject_unreadable(http::status status, std::string_view why) {
    std::lock_guard lock(mutex_);
    ++counters_.requests;
    return error(status, why);
}

reply mock_api::handle_control(const request& req) {
    const auto target = req.target().substr(0, req.target().find('?'));
    const auto expect = [&](http::verb method) -> std::optional<reply> {
        if (req.method() == method) return std::nullopt;
        auto r = json_reply(http::status::method_not_allowed, message_body("method not allowed"));
        r.message.set(http::field::allow, std::string(http::to_string(method)));
        return r;
    };
    if (target == "/_mock/stats") {
        if (auto refused = expect(http::verb::get)) return std::move(*refused);
        return json_reply(http::status::ok, stats_json());
    }
    if (target == "/_mock/reset") {
        if (auto refused = expect(http::verb::post)) return std::move(*refused);
        std::lock_guard lock(mutex_);
        reset();
        return json_reply(http::status::ok, message_body("reset"));
    }
    return json_reply(http::status::not_found, message_body("no such route"));
}

reply mock_api::error(http::status status, std::string_view message) {
    auto r = json_reply(status, message_body(message));
    if (status == http::status::too_many_requests || status == http::status::service_unavailable)
        r.message.set(http::field::retry_after, config_.retry_after);
    return finish(std::move(r));
}

reply mock_api::finish(reply r) {
    ++counters_.responses[r.message.result_int()];
    r.delay = config_.latency;
    if (config_.latency_jitter.count() > 0)
        r.delay += std::chrono::milliseconds(
            std::uniform_int_distribution<std::int64_t>(0, config_.latency_jitter.count())(random_));
    return r;
}

// Exact sliding window: at each arrival, the arrivals still within one second
// of it are the densest window ending there, and every window's maximum is
// reached at some arrival.
void mock_api::note_arrival(clock::time_point now) {
    if (!counters_.first_create) counters_.first_create = now;
    counters_.last_create = now;
    ++second_of(now).requests;
    arrivals_.push_back(now);
    while (now - arrivals_.front() >= std::chrono::seconds(1)) arrivals_.pop_front();
    counters_.max_in_any_second = std::max(counters_.max_in_any_second, arrivals_.size());
}

mock_api::counters::second& mock_api::second_of(clock::time_point now) {
    const auto index = static_cast<std::size_t>((now - *counters_.first_create) / std::chrono::seconds(1));
    if (counters_.seconds.size() <= index) counters_.seconds.resize(index + 1);
    return counters_.seconds[index];
}

// A sliding window per token (only one token passes the bearer check, so one
// window is the per-token window): however the requests fall, no window of
// that length holds more than the quota, not only the windows a fixed clock
// would cut. Below 1/s the window stretches to 1/R seconds with one request.
std::optional<mock_api::limit_state> mock_api::apply_rate_limit(clock::time_point now, bool& refused) {
    std::optional<double> rate = config_.rate_limit;
    if (config_.rate_limit_after && counters_.first_create &&
        now - *counters_.first_create >= config_.rate_limit_after->after)
        rate = config_.rate_limit_after->per_second;
    if (!rate) return std::nullopt;
    limit_state limit;
    limit.quota = static_cast<std::uint64_t>(std::max(1.0, std::floor(*rate)));
    limit.window =
        std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(std::max(1.0, 1.0 / *rate)));
    while (!accepted_.empty() && now - accepted_.front() >= limit.window) accepted_.pop_front();
    refused = accepted_.size() >= limit.quota;
    if (!refused) accepted_.push_back(now);
    limit.remaining = limit.quota - std::min<std::uint64_t>(limit.quota, accepted_.size());
    limit.reset = accepted_.empty() ? clock::duration{} : accepted_.front() + limit.window - now;
    return limit;
}

void mock_api::advertise(reply& r, const std::optional<limit_state>& limit) const {
    if (!limit || config_.rate_limit_headers == mock_config::limit_headers::none) return;
    // Whole seconds, rounded up, as both conventions write them.
    const auto whole_seconds = [](clock::duration d) {
        return static_cast<std::uint64_t>(std::ceil(std::chrono::duration<double>(d).count()));
    };
    const auto reset = whole_seconds(limit->reset);
    if (config_.rate_limit_headers == mock_config::limit_headers::draft) {
        r.message.set("RateLimit-Policy",
                      std::to_string(limit->quota) + ";w=" + std::to_string(whole_seconds(limit->window)));
        r.message.set("RateLimit", "limit=" + std::to_string(limit->quota) + ", remaining=" +
                                       std::to_string(limit->remaining) + ", reset=" + std::to_string(reset));
    } else {
        r.message.set("X-RateLimit-Limit", std::to_string(limit->quota));
        r.message.set("X-RateLimit-Remaining", std::to_string(limit->remaining));
        r.message.set("X-RateLimit-Reset", std::to_string(reset));
    }
}

// One draw for all statuses, so "500=0.05,503=0.02" means 5 % and 2 % exactly.
std::optional<unsigned> mock_api::draw_error_status() {
    if (config_.error_rates.empty()) return std::nullopt;
    const double draw = std::uniform_real_distribution<double>(0, 1)(random_);
    double cumulative = 0;
    for (const auto& [status, probability] : config_.error_rates) {
        cumulative += probability;
        if (draw < cumulative) return static_cast<unsigned>(status);
    }
    return std::nullopt;
}

bool mock_api::draw(double probability) {
    return probability > 0 && std::uniform_real_distribution<double>(0, 1)(random_) < probability;
}

void mock_api::reset() {
    counters_ = {};
    ledger_.clear();
    by_idempotency_key_.clear();
    arrivals_.clear();
    accepted_.clear();
}

std::string mock_api::stats_json() const {
    std::lock_guard lock(mutex_);
    std::string out;
    const auto number = [&](std::string_view name, std::uint64_t value) {
        out += '"';
        out += name;
        out += "\":";
        out += std::to_string(value);
        out += ',';
    };
    out += '{';
    number("requests", counters_.requests);
    number("created", counters_.created);
    out += R"("responses":{)";
    for (const auto& [status, count] : counters_.responses) number(std::to_string(status), count);
    if (out.back() == ',') out.pop_back();
    out += "},";
    number("dropped_before_response", counters_.dropped_before_response);
    number("dropped_on_accept", counters_.dropped_on_accept);
    number("malformed", counters_.malformed);
    number("idempotent_replays", counters_.idempotent_replays);
    number("connections", counters_.connections);
    number("idle_closed", counters_.idle_closed);
    number("resumed_sessions", counters_.resumed_sessions);
    number("max_in_any_second", counters_.max_in_any_second);
    const auto span = counters_.first_create ? counters_.last_create - *counters_.first_create : clock::duration{};
    number("create_span_us",
           static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(span).count()));
    out += R"("seconds":[)";
    for (const auto& second : counters_.seconds)
        out += fmt::format("[{},{},{}],", second.requests, second.created, second.refused);
    if (out.back() == ',') out.pop_back();
    out += "],";
    out += R"("listed_pages":{)";
    for (const auto& [page, count] : counters_.listed_pages) number(std::to_string(page), count);
    if (out.back() == ',') out.pop_back();
    out += "},";

    // Sorted, so two runs with the same seed print the same text.
    std::vector<const std::pair<const std::string, ledger_entry>*> chats;
    chats.reserve(ledger_.size());
    for (const auto& entry : ledger_) chats.push_back(&entry);
    std::sort(chats.begin(), chats.end(), [](auto* a, auto* b) { return a->first < b->first; });
    out += R"("chats":{)";
    for (const auto* chat : chats) {
        out += '"';
        append_json_escaped(out, chat->first);
        out += "\":{";
        number("count", chat->second.count);
        number("ambiguous", chat->second.ambiguous);
        out += R"("ids":[)";
        for (const auto& id : chat->second.ids) {
            out += '"';
            out += id;
            out += "\",";
        }
        if (out.back() == ',') out.pop_back();
        out += "]},";
    }
    if (out.back() == ',') out.pop_back();
    out += "}}";
    return out;
}

}   // namespace invent_dispatch::mock_detail
