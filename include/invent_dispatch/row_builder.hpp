#pragma once
// Row builder stage: one input record -> a chat_request ready to send, or an
// invalid row with its reason. Owns field mapping, defaults, templates,
// validation, the JSON body and the idempotency key.
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "invent_dispatch/input.hpp"
#include "invent_dispatch/rows.hpp"

namespace invent_dispatch {

enum class known_field : std::uint8_t {
    contact_id,
    channel_id,
    org_id,
    assistant_id,
    title,
    message,
    start_timestamp,
    end_timestamp
};
inline constexpr std::size_t known_field_count = 8;
// Their names, as --map and the input's columns spell them, in the enum's order.
inline constexpr std::array<std::string_view, known_field_count> known_field_names = {
    "contact_id", "channel_id", "org_id", "assistant_id", "title", "message", "start_timestamp", "end_timestamp"};

std::string_view to_string(known_field field) noexcept;
std::optional<known_field> parse_known_field(std::string_view name) noexcept;

inline constexpr std::size_t max_title_chars = 256;   // SPEC §1, in code points

// A default title or message: text with {{column}} holes (spaces inside the
// braces are ignored).
class text_template {
public:
    struct piece {
        std::string text;   // literal text, or the column name of a hole
        bool is_variable = false;
    };

    text_template() = default;
    // Throws input_error for a "{{" without its "}}" or an empty name.
    text_template(std::string_view source, std::string_view what);

    const std::vector<piece>& pieces() const noexcept { return pieces_; }

private:
    std::vector<piece> pieces_;
};

class row_builder {
public:
    // Throws input_error for a field_map entry that names no known field or
    // maps one twice, a malformed template, or a default org_id that could
    // not be a path segment.
    row_builder(const row_defaults& defaults, const std::vector<std::pair<std::string, std::string>>& field_map);
    ~row_builder();
    row_builder(const row_builder&) = delete;
    row_builder& operator=(const row_builder&) = delete;

    // The input column that holds a known field (its own name unless mapped).
    const std::string& column_of(known_field field) const noexcept;

    // CSV: the header must hold the contact and channel columns. Throws
    // input_error naming the file.
    void check_header(const std::vector<std::string>& header, const std::string& display_name) const;

    // Fills out, reusing its storage: once warm, it allocates nothing per row.
    void build(const input_record& record, built_row& out);

private:
    struct state;
    std::unique_ptr<state> state_;
};

}   // namespace invent_dispatch
