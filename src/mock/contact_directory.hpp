#pragma once
// The mock's contacts listing (GET /orgs/{org}/contacts): the synthetic
// contacts, the query Invent's listing takes, and a page's JSON. Knows
// nothing of sockets or of the fault decisions (mock_api's).
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "invent_dispatch/mock.hpp"

namespace invent_dispatch::mock_detail {

// Invent's query parameters for the listing (shared/invent-api/list-contacts.md);
// an empty string is no filter.
struct listing_query {
    std::string segment_id;
    std::string status;   // ALL, SUBSCRIBED, UNSUBSCRIBED, BLOCKED, AI_REPLIES_DISABLED
    std::string name;   // substring of the contact's name, any case (ASCII)
    std::string email;   // substring of any channel's email, any case
    std::string username;   // substring of any channel's username, any case
    std::optional<bool> unsubscribed;
    bool exclude_admins = false;
    std::size_t page = 1;
    std::size_t take = 10;   // Invent documents only the maximum
};

inline constexpr std::size_t max_take = 100;

// True for "/orgs/{org}/contacts", with or without a query.
bool is_listing_target(std::string_view target);

// The target's query, or why it is refused (a 400's message).
struct listing_request {
    listing_query query;
    std::string problem;
};
listing_request parse_listing_query(std::string_view target);

class contact_directory {
public:
    contact_directory(std::size_t count, std::uint64_t seed);

    struct page {
        std::size_t total = 0;   // contacts matching the query, on every page
        std::string body;   // the JSON array of this page's contacts
    };
    page render_page(const listing_query& query) const;

private:
    bool matches(const mock_contact& contact, const listing_query& query) const;
    void render_contact(std::string& out, const mock_contact& contact, std::size_t index) const;

    std::vector<mock_contact> contacts_;
    std::map<std::string, std::size_t, std::less<>> segment_sizes_;
};

}   // namespace invent_dispatch::mock_detail
