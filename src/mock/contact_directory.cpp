// The mock's contacts: generated once from the seed, filtered and paged as
// Invent's listing does, and written in the documented Contact shape.
#include "contact_directory.hpp"

#include <boost/url/parse.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <initializer_list>
#include <random>
#include <utility>

#include "invent_dispatch/json_text.hpp"

namespace invent_dispatch {
namespace {

constexpr std::array<std::string_view, 30> first_names{
    "Ana",    "João",   "Maria",  "Sofia",  "Lucas", "Emma",    "Liam",  "Noah",  "Olivia", "Mateo",
    "Chloé",  "Zoë",    "Łukasz", "Søren",  "Aiko",  "Hiroshi", "Priya", "Arjun", "Fatima", "Omar",
    "Élodie", "Jürgen", "Ingrid", "Carlos", "Lucía", "Mei",     "Wei",   "Amara", "Kwame",  "Niamh"};
constexpr std::array<std::string_view, 30> last_names{
    "Souza",    "Silva",  "Santos", "Müller",  "Schmidt", "García",  "Fernández", "Rossi",   "Dubois",       "Nowak",
    "Kowalski", "Tanaka", "Sato",   "Patel",   "Sharma",  "Khan",    "O'Brien",   "Nguyen",  "Kim",          "Andersen",
    "Okafor",   "Mensah", "Smith",  "Johnson", "Brown",   "Lefèvre", "Costa",     "Pereira", "van der Berg", "Murphy"};

constexpr std::array<std::string_view, 5> nicknames{"Nana", "Bibi", "Juju", "Kiki", "Lulu"};

struct locale_info {
    std::string_view country, language, dialling_code;
};
constexpr std::array<locale_info, 14> locales{{{"BR", "pt", "+55"},
                                               {"PT", "pt", "+351"},
                                               {"US", "en", "+1"},
                                               {"GB", "en", "+44"},
                                               {"DE", "de", "+49"},
                                               {"FR", "fr", "+33"},
                                               {"ES", "es", "+34"},
                                               {"MX", "es", "+52"},
                                               {"IT", "it", "+39"},
                                               {"PL", "pl", "+48"},
                                               {"JP", "ja", "+81"},
                                               {"IN", "hi", "+91"},
                                               {"NG", "en", "+234"},
                                               {"DK", "da", "+45"}}};

constexpr std::array<std::string_view, 5> integration_types{"whatsapp_bot", "instagram_dm", "telegram_bot", "email",
                                                            "twilio"};
constexpr std::array<std::string_view, 3> mail_domains{"example.com", "example.org", "example.net"};

struct segment_info {
    std::string_view id, name, color;
    unsigned percent;   // of contacts in it
};
constexpr std::array<segment_info, 3> segments{{
    {"seg_spring", "Spring campaign", "green", 40},
    {"seg_vip", "VIP", "gold", 10},
    {"seg_newsletter", "Newsletter", "blue", 50},
}};

constexpr std::array<std::string_view, 5> statuses{"ALL", "SUBSCRIBED", "UNSUBSCRIBED", "BLOCKED",
                                                   "AI_REPLIES_DISABLED"};

// Draws from the raw engine output, which the standard fixes exactly (the
// distributions are implementation-defined), so every build makes the same
// contacts for a seed.
struct draws {
    std::mt19937_64 engine;
    std::uint64_t below(std::uint64_t n) { return engine() % n; }
    bool percent(unsigned p) { return below(100) < p; }
    template <class Array>
    const auto& pick(const Array& items) {
        return items[below(items.size())];
    }
};

std::string lower_ascii(std::string_view text) {
    std::string out(text);
    for (auto& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

// "O'Brien" -> "obrien", "van der Berg" -> "vanderberg": letters and digits
// (and any non-ASCII byte) only.
std::string handle_part(std::string_view text) {
    std::string out;
    for (const char c : lower_ascii(text))
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || static_cast<unsigned char>(c) >= 0x80) out += c;
    return out;
}

bool contains_ignoring_case(std::string_view text, std::string_view needle) {
    return lower_ascii(text).find(lower_ascii(needle)) != std::string::npos;
}

mock_contact make_contact(draws& draw, std::size_t number) {
    mock_contact contact;
    contact.id = fmt::format("ct_{:06}", number);
    const auto first = draw.pick(first_names);
    const auto last = draw.pick(last_names);
    const auto naming = draw.below(100);
    if (naming < 3)
        contact.name = "";   // no name (null)
    else if (naming < 5)
        contact.name = fmt::format("{}, Jr.", last);   // a comma for CSV to quote
    else if (naming < 6)
        contact.name = fmt::format("{} \"{}\" {}", first, draw.pick(nicknames), last);   // quotes
    else
        contact.name = fmt::format("{} {}", first, last);
    contact.blocked = draw.percent(3);
    contact.unsubscribed = draw.percent(6);
    contact.is_admin = draw.percent(2);

    const auto& locale = draw.pick(locales);
    const auto handle = fmt::format("{}.{}{}", handle_part(first), handle_part(last), number);
    const auto phone = fmt::format("{} {:03} {:04}", locale.dialling_code, draw.below(1000), number % 10'000);
    const auto custom_kind = draw.below(100);
    const unsigned customs = custom_kind < 7 ? 0 : custom_kind < 17 ? 2 : 1;
    const bool internal = draw.percent(60);
    const bool integration = draw.percent(25);
    char suffix = 'a';
    const auto next_id = [&] { return fmt::format("ch_{:06}{}", number, suffix++); };
    if (internal)
        contact.channels.push_back({next_id(), "internal", contact.name, "", "", "", "", std::string(locale.language)});
    for (unsigned i = 0; i < customs; ++i) {
        const auto domain = i == 0 ? std::string(draw.pick(mail_domains)) : std::string("work.example.com");
        contact.channels.push_back({next_id(), "custom", contact.name, handle, fmt::format("{}@{}", handle, domain),
                                    i == 0 ? phone : "", std::string(locale.country), std::string(locale.language)});
    }
    if (integration)
        contact.channels.push_back({next_id(), std::string(draw.pick(integration_types)), contact.name, handle, "",
                                    phone, std::string(locale.country), std::string(locale.language)});
    // Custom channels are not always first.
    if (!contact.channels.empty())
        std::rotate(contact.channels.begin(),
                    contact.channels.begin() + static_cast<std::ptrdiff_t>(draw.below(contact.channels.size())),
                    contact.channels.end());
    for (const auto& segment : segments)
        if (draw.percent(segment.percent)) contact.segment_ids.emplace_back(segment.id);
    return contact;
}

}   // namespace

std::vector<mock_contact> make_mock_contacts(std::size_t count, std::uint64_t seed) {
    draws draw{std::mt19937_64(seed)};
    std::vector<mock_contact> contacts;
    contacts.reserve(count);
    for (std::size_t number = 1; number <= count; ++number) contacts.push_back(make_contact(draw, number));
    return contacts;
}

namespace mock_detail {
namespace {

// A JSON value that is null when empty.
void append_nullable(std::string& out, std::string_view text) {
    if (text.empty())
        out += "null";
    else
        append_json_string(out, text);
}

// Members of a JSON object after its first: `,"name":value` each, in order.
void append_nullable_members(std::string& out,
                             std::initializer_list<std::pair<std::string_view, std::string_view>> members) {
    for (const auto& [name, value] : members) {
        out += R"(,")";
        out += name;
        out += R"(":)";
        append_nullable(out, value);
    }
}

void append_bool_members(std::string& out, std::initializer_list<std::pair<std::string_view, bool>> members) {
    for (const auto& [name, value] : members) {
        out += R"(,")";
        out += name;
        out += value ? R"(":true)" : R"(":false)";
    }
}

// The contact's creation time: a minute apart, from 2026-01-01.
std::string timestamp_of(std::size_t index) {
    const auto minutes = static_cast<unsigned>(index % (60 * 24 * 28));
    return fmt::format("2026-01-{:02}T{:02}:{:02}:00Z", 1 + minutes / (60 * 24), minutes / 60 % 24, minutes % 60);
}

std::optional<std::size_t> whole_number(std::string_view text) {
    std::size_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    return value;
}

}   // namespace

bool is_listing_target(std::string_view target) {
    const auto parsed = boost::urls::parse_origin_form(target);
    if (!parsed) return false;
    const auto segments = parsed->segments();
    if (segments.size() != 3) return false;
    auto it = segments.begin();
    const std::string orgs = *it++;
    const std::string org = *it++;
    const std::string contacts = *it;
    return orgs == "orgs" && !org.empty() && contacts == "contacts";
}

listing_request parse_listing_query(std::string_view target) {
    listing_request request;
    auto& q = request.query;
    const auto parsed = boost::urls::parse_origin_form(target);
    if (!parsed) {
        request.problem = "the target is not a valid URL path";
        return request;
    }
    for (const auto& param : parsed->params()) {
        const auto& key = param.key;
        const auto& value = param.value;
        if (key == "segment_id")
            q.segment_id = value;
        else if (key == "status")
            q.status = value;
        else if (key == "name")
            q.name = value;
        else if (key == "email")
            q.email = value;
        else if (key == "username")
            q.username = value;
        else if (key == "unsubscribed" || key == "exclude_admins") {
            if (value != "true" && value != "false") {
                request.problem = key + " must be true or false";
                return request;
            }
            if (key == "unsubscribed")
                q.unsubscribed = value == "true";
            else
                q.exclude_admins = value == "true";
        } else if (key == "page" || key == "take") {
            const auto number = whole_number(value);
            if (!number || *number == 0) {
                request.problem = key + " must be a positive whole number";
                return request;
            }
            if (key == "take" && *number > max_take) {
                request.problem = fmt::format("take must be at most {}", max_take);
                return request;
            }
            (key == "page" ? q.page : q.take) = *number;
        }
        // Others (user_id, exclude_board_id, next) filter nothing the mock holds.
    }
    if (!q.status.empty() && std::find(statuses.begin(), statuses.end(), q.status) == statuses.end())
        request.problem = "status must be one of ALL, SUBSCRIBED, UNSUBSCRIBED, BLOCKED, AI_REPLIES_DISABLED";
    return request;
}

contact_directory::contact_directory(std::size_t count, std::uint64_t seed)
    : contacts_(make_mock_contacts(count, seed)) {
    for (const auto& contact : contacts_)
        for (const auto& segment : contact.segment_ids) ++segment_sizes_[segment];
}

bool contact_directory::matches(const mock_contact& c, const listing_query& q) const {
    if (!q.segment_id.empty() &&
        std::find(c.segment_ids.begin(), c.segment_ids.end(), q.segment_id) == c.segment_ids.end())
        return false;
    if (q.status == "SUBSCRIBED" && (c.unsubscribed || c.blocked)) return false;
    if (q.status == "UNSUBSCRIBED" && !c.unsubscribed) return false;
    if (q.status == "BLOCKED" && !c.blocked) return false;
    if (q.status == "AI_REPLIES_DISABLED") return false;   // no mock contact has AI replies off
    if (q.unsubscribed && *q.unsubscribed != c.unsubscribed) return false;
    if (q.exclude_admins && c.is_admin) return false;
    if (!q.name.empty() && !contains_ignoring_case(c.name, q.name)) return false;
    const auto any_channel = [&](std::string mock_channel::*field, const std::string& needle) {
        return needle.empty() || std::any_of(c.channels.begin(), c.channels.end(), [&](const mock_channel& ch) {
                   return contains_ignoring_case(ch.*field, needle);
               });
    };
    return any_channel(&mock_channel::email, q.email) && any_channel(&mock_channel::username, q.username);
}

contact_directory::page contact_directory::render_page(const listing_query& query) const {
    page result;
    const std::size_t first = (query.page - 1) * query.take;   // query.page >= 1
    result.body = "[";
    for (std::size_t index = 0; index < contacts_.size(); ++index) {
        if (!matches(contacts_[index], query)) continue;
        const auto position = result.total++;
        if (position < first || position - first >= query.take) continue;
        if (result.body.size() > 1) result.body += ',';
        render_contact(result.body, contacts_[index], index);
    }
    result.body += ']';
    return result;
}

void contact_directory::render_contact(std::string& out, const mock_contact& c, std::size_t index) const {
    const auto created = timestamp_of(index);
    out += R"({"id":)";
    append_json_string(out, c.id);
    append_nullable_members(out, {{"name", c.name}});
    append_bool_members(out, {{"blocked", c.blocked}, {"unsubscribed", c.unsubscribed}, {"is_admin", c.is_admin}});
    out += R"(,"channels":[)";
    for (std::size_t i = 0; i < c.channels.size(); ++i) {
        const auto& ch = c.channels[i];
        const bool internal = ch.type == "internal";
        if (i > 0) out += ',';
        out += R"({"id":)";
        append_json_string(out, ch.id);
        out += R"(,"type":)";
        append_json_string(out, ch.type);
        out += internal ? fmt::format(R"(,"user_id":"usr_{}")", index + 1) : std::string(R"(,"user_id":null)");
        out += R"(,"avatar":null)";
        append_nullable_members(out, {{"name", ch.name},
                                      {"username", ch.username},
                                      {"email", ch.email},
                                      {"phone", ch.phone},
                                      {"country", ch.country}});
        out += internal ? R"(,"agent":"Mozilla/5.0","ip":"203.0.113.7")" : R"(,"agent":null,"ip":null)";
        append_nullable_members(out, {{"language", ch.language}});
        out += ch.type == "custom" ? fmt::format(R"(,"platform_data":{{"crm_id":"A-{}"}})", index + 1)
                                   : std::string(R"(,"platform_data":{})");
        out += fmt::format(R"(,"created_at":"{0}","updated_at":"{0}","link":null}})", created);
    }
    out += R"(],"segments":[)";
    for (std::size_t i = 0; i < c.segment_ids.size(); ++i) {
        const auto& id = c.segment_ids[i];
        const auto info = std::find_if(segments.begin(), segments.end(), [&](const auto& s) { return s.id == id; });
        const auto size = segment_sizes_.find(id);
        if (i > 0) out += ',';
        out += fmt::format(R"({{"id":"{}","name":"{}","color":"{}","contacts_count":{},)"
                           R"("created_at":"2025-12-01T08:00:00Z","updated_at":"2025-12-15T08:00:00Z"}})",
                           id, info->name, info->color, size->second);
    }
    out += fmt::format(R"(],"created_at":"{0}","updated_at":"{0}","blocked_at":{1},"unsubscribed_at":{2},)", created,
                       c.blocked ? fmt::format("\"{}\"", created) : "null",
                       c.unsubscribed ? fmt::format("\"{}\"", created) : "null");
    out += c.unsubscribed ? R"("unsubscribe_reason":"too_many_messages","unsubscribe_feedback":null})"
                          : R"("unsubscribe_reason":null,"unsubscribe_feedback":null})";
}

}   // namespace mock_detail
}   // namespace invent_dispatch
