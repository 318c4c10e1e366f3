#include "invent_dispatch/rate_limit_headers.hpp"
#include "invent_dispatch/trim.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace invent_dispatch {
namespace {

// A Unix time, not a delay: 10^9 seconds is 2001, and no window is 31 years.
constexpr double unix_time_threshold = 1e9;

bool is_digit(char c) noexcept {
    return c >= '0' && c <= '9';
}
bool is_key_start(char c) noexcept {
    return (c >= 'a' && c <= 'z') || c == '*';
}
bool is_key_char(char c) noexcept {
    return is_key_start(c) || is_digit(c) || c == '_' || c == '-' || c == '.';
}
bool is_token_char(char c) noexcept {
    return (c >= 'A' && c <= 'Z') || is_key_char(c) || c == ':' || c == '/' || c == '!' || c == '#' || c == '$' ||
           c == '%' || c == '&' || c == '\'' || c == '+' || c == '^' || c == '`' || c == '|' || c == '~';
}

// A non-negative number: digits with at most one '.', as RFC 8941 integers and
// decimals are written (no sign, no exponent, no hex).
std::optional<double> parse_number(std::string_view text) noexcept {
    if (text.empty() || !is_digit(text.front()) || !is_digit(text.back())) return std::nullopt;
    bool seen_dot = false;
    for (const char c : text) {
        if (c == '.' && !seen_dot)
            seen_dot = true;
        else if (!is_digit(c))
            return std::nullopt;
    }
    double value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || !std::isfinite(value)) return std::nullopt;
    return value;
}

// One member of a Structured Field list or dictionary (RFC 8941), with the
// parameters the draft uses. Enough of the grammar to walk any member and
// to refuse a broken one.
struct field_member {
    std::string_view key;   // a dictionary member's key; empty for a list item
    std::optional<double> number;   // the value, when numeric
    std::optional<double> q, w, r, t, limit, remaining, reset;   // parameters

    std::optional<double>* slot(std::string_view name) noexcept {
        if (name == "q") return &q;
        if (name == "w") return &w;
        if (name == "r") return &r;
        if (name == "t") return &t;
        // Close sends draft-07's dictionary with ';' between members; read
        // those as parameters of the first, and take them all the same.
        if (name == "limit") return &limit;
        if (name == "remaining") return &remaining;
        if (name == "reset") return &reset;
        return nullptr;
    }
};

class field_cursor {
public:
    explicit field_cursor(std::string_view text) noexcept : rest_(text) {}

    bool at_end() const noexcept { return rest_.empty(); }
    void skip_spaces() noexcept {
        while (!rest_.empty() && (rest_.front() == ' ' || rest_.front() == '\t')) rest_.remove_prefix(1);
    }
    bool consume(char c) noexcept {
        if (rest_.empty() || rest_.front() != c) return false;
        rest_.remove_prefix(1);
        return true;
    }

    std::string_view key() noexcept {
        if (rest_.empty() || !is_key_start(rest_.front())) return {};
        std::size_t n = 1;
        while (n < rest_.size() && is_key_char(rest_[n])) ++n;
        return take(n);
    }

    // A bare item: a number (its value), a string, a token or a byte sequence (no value).
    // False when it is none of them.
    bool item(std::optional<double>& number) noexcept {
        number.reset();
        if (rest_.empty()) return false;
        const char first = rest_.front();
        if (is_digit(first)) {
            std::size_t n = 0;
            while (n < rest_.size() && (is_digit(rest_[n]) || rest_[n] == '.')) ++n;
            number = parse_number(take(n));
            return number.has_value();
        }
        if (first == '"') return skip_string();
        if (first == ':') return skip_byte_sequence();
        if ((first >= 'A' && first <= 'Z') || (first >= 'a' && first <= 'z') || first == '*') {
            std::size_t n = 1;
            while (n < rest_.size() && is_token_char(rest_[n])) ++n;
            take(n);
            return true;
        }
        return false;
    }

    // `;key[=item]` parameters, each kept when the member has a slot for it.
    bool parameters(field_member& member) noexcept {
        while (consume(';')) {
            skip_spaces();
            const auto name = key();
            if (name.empty()) return false;
            std::optional<double> value;
            if (consume('=') && !item(value)) return false;
            if (auto* slot = member.slot(name)) *slot = value;
        }
        return true;
    }

private:
    std::string_view take(std::size_t n) noexcept {
        const auto taken = rest_.substr(0, n);
        rest_.remove_prefix(n);
        return taken;
    }

    bool skip_string() noexcept {
        rest_.remove_prefix(1);
        while (!rest_.empty()) {
            const char c = rest_.front();
            rest_.remove_prefix(1);
            if (c == '"') return true;
            if (c == '\\') {
                if (rest_.empty() || (rest_.front() != '"' && rest_.front() != '\\')) return false;
                rest_.remove_prefix(1);
            } else if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) {
                return false;
            }
        }
        return false;   // unterminated
    }

    bool skip_byte_sequence() noexcept {
        const auto close = rest_.find(':', 1);
        if (close == std::string_view::npos) return false;
        for (const char c : rest_.substr(1, close - 1))
            if (!is_digit(c) && !(c >= 'A' && c <= 'Z') && !(c >= 'a' && c <= 'z') && c != '+' && c != '/' && c != '=')
                return false;
        rest_.remove_prefix(close + 1);
        return true;
    }

    std::string_view rest_;
};

// Calls on_member for each member; false (and the field is ignored whole,
// as RFC 8941 says) when any part of it is broken.
template <typename OnMember>
bool for_each_member(std::string_view text, bool dictionary, OnMember on_member) {
    field_cursor in(trim(text));
    if (in.at_end()) return false;
    for (;;) {
        field_member member;
        in.skip_spaces();
        if (dictionary) {
            member.key = in.key();
            if (member.key.empty()) return false;
            // A key without '=' is a boolean true: no number.
            if (in.consume('=') && !in.item(member.number)) return false;
        } else if (!in.item(member.number)) {
            return false;
        }
        if (!in.parameters(member)) return false;
        on_member(member);
        in.skip_spaces();
        if (in.at_end()) return true;
        if (!in.consume(',')) return false;
        in.skip_spaces();
        if (in.at_end()) return false;   // a trailing comma
    }
}

bool positive(const std::optional<double>& v) noexcept {
    return v && *v > 0;
}

// RateLimit-Policy: the tightest policy (lowest quota per second) that names
// its window; else the first quota without one.
void read_policy(std::string_view text, advertised_limit& out) {
    std::optional<double> limit, window, loose_limit;
    const bool whole = for_each_member(text, false, [&](const field_member& m) {
        const auto quota = m.q ? m.q : m.number;   // drafts 08+: q=; draft-07: the item itself
        if (!positive(quota)) return;
        if (positive(m.w)) {
            if (!limit || *quota / *m.w < *limit / *window) {
                limit = quota;
                window = m.w;
            }
        } else if (!loose_limit) {
            loose_limit = quota;
        }
    });
    if (!whole) return;
    out.limit = limit ? limit : loose_limit;
    out.window = window;
}

// RateLimit: draft-07's dictionary (limit, remaining, reset) or drafts 08+'s
// list of items (r remaining, t reset; the one with the fewest remaining).
void read_current(std::string_view text, advertised_limit& out) {
    // A dictionary member starts with `key=`; a list item with a string or a number.
    const auto trimmed = trim(text);
    const bool dictionary = trimmed.find('=') < trimmed.find_first_of(";\"");
    std::optional<double> limit, remaining, reset;
    const auto take = [](std::optional<double>& into, const std::optional<double>& value) {
        if (value) into = value;
    };
    const bool whole = for_each_member(text, dictionary, [&](const field_member& m) {
        if (dictionary) {
            if (m.key == "limit")
                take(limit, m.number);
            else if (m.key == "remaining")
                take(remaining, m.number);
            else if (m.key == "reset")
                take(reset, m.number);
            take(limit, m.limit);
            take(remaining, m.remaining);
            take(reset, m.reset);
        } else if (m.r && (!remaining || *m.r < *remaining)) {
            remaining = m.r;
            reset = m.t;
        }
    });
    if (!whole) return;
    if (positive(limit) && !out.limit) out.limit = limit;
    out.remaining = remaining;
    out.reset = reset;
}

bool says_anything(const advertised_limit& a) noexcept {
    return a.limit || a.remaining || a.reset;
}

advertised_limit read_x_fields(const rate_limit_fields& f, std::chrono::system_clock::time_point now_wall) {
    advertised_limit x;
    x.from = advertised_limit::style::x;
    if (auto limit = parse_number(trim(f.x_limit)); positive(limit)) x.limit = limit;
    x.remaining = parse_number(trim(f.x_remaining));
    if (auto reset = parse_number(trim(f.x_reset))) {
        if (*reset > unix_time_threshold) {
            const double now = std::chrono::duration<double>(now_wall.time_since_epoch()).count();
            *reset = std::max(0.0, *reset - now);
        }
        x.reset = reset;
    }
    return x;
}

}   // namespace

std::optional<advertised_limit> parse_rate_limit_fields(const rate_limit_fields& fields,
                                                        std::chrono::system_clock::time_point now_wall) noexcept {
    advertised_limit draft;
    if (!fields.ratelimit_policy.empty()) read_policy(fields.ratelimit_policy, draft);
    if (!fields.ratelimit.empty()) read_current(fields.ratelimit, draft);
    const advertised_limit x = read_x_fields(fields, now_wall);
    if (draft.limit || (says_anything(draft) && !x.limit)) return draft;
    if (says_anything(x)) return x;
    return std::nullopt;
}

}   // namespace invent_dispatch
