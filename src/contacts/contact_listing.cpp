// The sans-io part of `contacts`: the request target, a page's JSON -> rows
// and left-out counts, the paging decision, and the rows as CSV or JSONL.
#include "invent_dispatch/contacts.hpp"

#include <fmt/format.h>

#include <charconv>

#include "invent_dispatch/encoding.hpp"
#include "invent_dispatch/json_text.hpp"

namespace invent_dispatch {
namespace {

namespace dom = simdjson::dom;

// A text field of the listing: a string, or the JSON text of a number;
// null, absent or another type is empty (a template variable, not an id).
std::string text_of(dom::object object, std::string_view key) {
    dom::element value;
    if (object[key].get(value)) return {};
    std::string_view text;
    if (!value.get_string().get(text)) return std::string(text);
    if (value.is_number()) return simdjson::minify(value);
    return {};
}

// An id: a non-empty string, or a whole number as its decimal text.
std::optional<std::string> id_of(dom::object object) {
    dom::element value;
    if (object["id"].get(value)) return std::nullopt;
    std::string_view text;
    if (!value.get_string().get(text)) return text.empty() ? std::nullopt : std::optional<std::string>(text);
    if (value.is_int64() || value.is_uint64()) return simdjson::minify(value);
    return std::nullopt;
}

// A flag counts as set unless it is false, null or absent: a value we cannot
// read must not get an opted-out person messaged.
bool flag_of(dom::object object, std::string_view key) {
    dom::element value;
    if (object[key].get(value) || value.is_null()) return false;
    bool flag = true;
    if (!value.get_bool().get(flag)) return flag;
    return true;
}

std::optional<std::uint64_t> count_of(std::string_view header) {
    std::uint64_t value = 0;
    const auto* end = header.data() + header.size();
    const auto [ptr, ec] = std::from_chars(header.data(), end, value);
    if (header.empty() || ec != std::errc{} || ptr != end) return std::nullopt;
    return value;
}

// The length first, so no pair of ids can spell another pair.
std::string pair_key(std::string_view contact_id, std::string_view channel_id) {
    return fmt::format("{}:{}{}", contact_id.size(), contact_id, channel_id);
}

void append_csv_field(std::string& out, std::string_view field) {
    if (field.find_first_of(",\"\r\n") == std::string_view::npos) {
        out += field;
        return;
    }
    out += '"';
    for (const char c : field) {
        if (c == '"') out += '"';
        out += c;
    }
    out += '"';
}

constexpr std::array<std::string_view, 9> column_names{
    "contact_id", "channel_id", "contact_name", "channel_name", "username", "email", "phone", "country", "language"};

std::array<const std::string*, 9> columns_of(const contact_row& row) {
    return {&row.contact_id, &row.channel_id, &row.contact_name, &row.channel_name, &row.username,
            &row.email,      &row.phone,      &row.country,      &row.language};
}

}   // namespace

std::string contacts_target(std::string_view base_path, std::string_view org_id, const contacts_query& query,
                            std::uint64_t page) {
    std::string target(base_path);
    target += "/orgs/";
    append_encoded_segment(target, org_id);
    target += "/contacts?";
    for (const auto& [name, value] : {std::pair{"segment_id", &query.segment_id}, std::pair{"status", &query.status},
                                      std::pair{"name", &query.name}, std::pair{"email", &query.email}}) {
        if (value->empty()) continue;
        target += name;
        target += '=';
        append_encoded_segment(target, *value);
        target += '&';
    }
    target += fmt::format("page={}&take={}", page, contacts_page_size);
    return target;
}

std::string_view to_string(left_out_reason reason) noexcept {
    switch (reason) {
    case left_out_reason::blocked: return "blocked";
    case left_out_reason::unsubscribed: return "unsubscribed";
    case left_out_reason::admin: return "admins";
    case left_out_reason::no_custom_channel: return "without a custom channel";
    }
    return "?";
}

contact_listing::contact_listing(bool include_unsubscribed, bool include_blocked)
    : include_unsubscribed_(include_unsubscribed),
      include_blocked_(include_blocked) {}

std::string contact_listing::add_page(simdjson::padded_string_view body, std::string_view pagination_count,
                                      std::vector<contact_row>& rows) {
    rows.clear();
    // The DOM parser validates the whole page: one broken value anywhere
    // makes it a bad page (asked again), never a half-read one.
    dom::element document;
    if (const auto error = parser_.parse(body.data(), body.size(), false).get(document))
        return fmt::format("page {} is not valid JSON: {}", next_page_, simdjson::error_message(error));
    dom::array contacts;
    if (document.get_array().get(contacts)) return fmt::format("page {} is not a JSON array", next_page_);

    // Checked whole before anything is counted, so a refused page leaves no trace.
    std::size_t position = 0;
    for (const auto element : contacts) {
        ++position;
        dom::object contact;
        if (element.get_object().get(contact) || !id_of(contact))
            return fmt::format("contact {} of page {} is not an object with an id", position, next_page_);
    }

    std::uint64_t new_contacts = 0;
    for (const auto element : contacts) {
        const dom::object contact = element.get_object().value_unsafe();
        const auto contact_id = *id_of(contact);
        const bool first_sighting = seen_contacts_.insert(contact_id).second;
        if (first_sighting) {
            ++new_contacts;
            ++counts_.contacts;
        }
        std::optional<left_out_reason> left_out;
        if (flag_of(contact, "blocked") && !include_blocked_)
            left_out = left_out_reason::blocked;
        else if (flag_of(contact, "unsubscribed") && !include_unsubscribed_)
            left_out = left_out_reason::unsubscribed;
        else if (flag_of(contact, "is_admin"))
            left_out = left_out_reason::admin;

        const auto contact_name = text_of(contact, "name");
        std::size_t custom_channels = 0;
        dom::array channels;
        if (!left_out && !contact["channels"].get_array().get(channels)) {
            for (const auto item : channels) {
                dom::object channel;
                if (item.get_object().get(channel)) continue;
                std::string_view type;
                if (channel["type"].get_string().get(type) || type != "custom") continue;
                const auto channel_id = id_of(channel);
                if (!channel_id) continue;   // a channel no chat can be created on
                ++custom_channels;
                if (!written_pairs_.insert(pair_key(contact_id, *channel_id)).second) {
                    ++counts_.repeated_rows;
                    continue;
                }
                rows.push_back({contact_id, *channel_id, contact_name, text_of(channel, "name"),
                                text_of(channel, "username"), text_of(channel, "email"), text_of(channel, "phone"),
                                text_of(channel, "country"), text_of(channel, "language")});
            }
        }
        if (!left_out && custom_channels == 0) left_out = left_out_reason::no_custom_channel;
        if (left_out && first_sighting) ++counts_.left_out[static_cast<std::size_t>(*left_out)];
    }
    counts_.rows += rows.size();
    ++counts_.pages;

    // The paging decision.
    const std::uint64_t on_page = contacts.size();
    contacts_in_pages_ += on_page;
    if (const auto total = count_of(pagination_count)) expected_ = total;
    stalled_ = on_page == contacts_page_size && new_contacts == 0;
    complete_ = on_page < contacts_page_size || stalled_ || (expected_ && contacts_in_pages_ >= *expected_);
    ++next_page_;
    return {};
}

void append_header(std::string& out, contacts_format format) {
    if (format != contacts_format::csv) return;
    for (std::size_t i = 0; i < column_names.size(); ++i) {
        if (i > 0) out += ',';
        out += column_names[i];
    }
    out += '\n';
}

void append_row(std::string& out, const contact_row& row, contacts_format format) {
    const auto columns = columns_of(row);
    if (format == contacts_format::csv) {
        for (std::size_t i = 0; i < columns.size(); ++i) {
            if (i > 0) out += ',';
            append_csv_field(out, *columns[i]);
        }
    } else {
        out += '{';
        for (std::size_t i = 0; i < columns.size(); ++i) {
            if (i > 0) out += ',';
            append_json_string(out, column_names[i]);
            out += ':';
            append_json_string(out, *columns[i]);
        }
        out += '}';
    }
    out += '\n';
}

std::string describe(const listing_counts& c) {
    std::string line =
        fmt::format("{} pages read, {} contacts seen, {} rows written; left out:", c.pages, c.contacts, c.rows);
    for (std::size_t i = 0; i < left_out_reason_count; ++i)
        line += fmt::format("{} {} {}", i == 0 ? "" : ",", c.left_out[i], to_string(static_cast<left_out_reason>(i)));
    if (c.repeated_rows > 0)
        line += fmt::format("; {} repeated rows skipped (pages shifted while read)", c.repeated_rows);
    return line;
}

}   // namespace invent_dispatch
