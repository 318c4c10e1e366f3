// The SHA-256 primitive is deprecated in OpenSSL 3.0 (see write_idempotency_key);
// defined before any header, so that every OpenSSL header sees it.
#define OPENSSL_SUPPRESS_DEPRECATED

#include "invent_dispatch/row_builder.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <limits>

#include <boost/json/serializer.hpp>
#include <fmt/format.h>
#include <openssl/sha.h>
#include <simdjson.h>

#include "invent_dispatch/encoding.hpp"
#include "invent_dispatch/trim.hpp"

namespace invent_dispatch {

namespace {

constexpr std::size_t index(known_field field) noexcept {
    return static_cast<std::size_t>(field);
}

// C0 controls, DEL and the C1 controls (U+0080..U+009F, C2 80..C2 9F in UTF-8).
bool has_control_character(std::string_view text) noexcept {
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c < 0x20 || c == 0x7F) return true;
        if (c == 0xC2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) < 0xA0 &&
            static_cast<unsigned char>(text[i + 1]) >= 0x80)
            return true;
    }
    return false;
}

// "." and ".." are unreserved, so they travel unencoded, and any normalising
// hop would take them as a step in the path (and %2E is decoded first).
bool is_dot_segment(std::string_view id) noexcept {
    return id == "." || id == "..";
}
constexpr std::string_view dot_segment_issue = "is \".\" or \"..\", which would change the request's path";

// Valid UTF-8 assumed: every byte that does not continue a sequence starts a code point.
std::size_t code_points(std::string_view text) noexcept {
    return static_cast<std::size_t>(
        std::count_if(text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

}   // namespace

std::string_view to_string(known_field field) noexcept {
    return known_field_names[index(field)];
}

std::optional<known_field> parse_known_field(std::string_view name) noexcept {
    const auto found = std::find(known_field_names.begin(), known_field_names.end(), name);
    if (found == known_field_names.end()) return std::nullopt;
    return static_cast<known_field>(found - known_field_names.begin());
}

text_template::text_template(std::string_view source, std::string_view what) {
    while (!source.empty()) {
        const auto open = source.find("{{");
        if (open != 0) pieces_.push_back({std::string(source.substr(0, open)), false});
        if (open == std::string_view::npos) break;
        const auto close = source.find("}}", open + 2);
        if (close == std::string_view::npos)
            throw input_error(fmt::format("{} template: \"{{{{\" without \"}}}}\"", what));
        const auto name = trim(source.substr(open + 2, close - open - 2));
        if (name.empty()) throw input_error(fmt::format("{} template: \"{{{{}}}}\" names no column", what));
        pieces_.push_back({std::string(name), true});
        source.remove_prefix(close + 2);
    }
}

struct row_builder::state {
    // A template with each hole's column looked up once per set of names.
    struct compiled_template {
        text_template source;
        std::vector<int> field_of_piece;   // index into the record's fields; -1 if absent
    };

    row_defaults defaults;
    std::array<std::string, known_field_count> columns;
    std::array<std::string, known_field_count> labels;   // "ContactID (contact_id)" when mapped
    compiled_template title;
    compiled_template message;

    // Per set of field names (a CSV header, a JSONL line).
    std::uint64_t generation = std::numeric_limits<std::uint64_t>::max();   // none yet
    std::array<int, known_field_count> known_index{};
    std::optional<known_field> repeated;

    // Body machinery, reused for every row.
    boost::json::serializer serializer;
    std::string rendered_title;
    std::string rendered_message;

    void resolve(const input_record& record);
    const input_field* find(const input_record& record, known_field field) const noexcept;
    // Renders t into out; on a missing column returns its name.
    std::optional<std::string_view> render(const compiled_template& t, const input_record& record,
                                           std::string& out) const;
    void append_json_string(std::string& out, std::string_view text);
    void write_body(std::string& body, std::string_view assistant_id, std::string_view title, std::string_view message,
                    std::string_view start, std::string_view end);
    void write_idempotency_key(chat_request& request);
};

void row_builder::state::resolve(const input_record& record) {
    generation = record.names_generation;
    known_index.fill(-1);
    repeated.reset();
    const auto index_of = [&](std::string_view name) {
        for (std::size_t i = 0; i < record.fields.size(); ++i)
            if (record.fields[i].name == name) return static_cast<int>(i);
        return -1;
    };
    for (std::size_t k = 0; k < known_field_count; ++k) {
        known_index[k] = index_of(columns[k]);
        if (known_index[k] >= 0) {
            const auto rest = std::find_if(record.fields.begin() + known_index[k] + 1, record.fields.end(),
                                           [&](const input_field& f) { return f.name == columns[k]; });
            if (rest != record.fields.end()) repeated = static_cast<known_field>(k);
        }
    }
    for (auto* t : {&title, &message})
        for (std::size_t p = 0; p < t->field_of_piece.size(); ++p)
            if (t->source.pieces()[p].is_variable) t->field_of_piece[p] = index_of(t->source.pieces()[p].text);
}

const input_field* row_builder::state::find(const input_record& record, known_field field) const noexcept {
    const auto i = known_index[index(field)];
    // A short CSV row may lack a column its header has.
    if (i < 0 || static_cast<std::size_t>(i) >= record.fields.size()) return nullptr;
    return &record.fields[static_cast<std::size_t>(i)];
}

std::optional<std::string_view> row_builder::state::render(const compiled_template& t, const input_record& record,
                                                           std::string& out) const {
    out.clear();
    const auto& pieces = t.source.pieces();
    for (std::size_t p = 0; p < pieces.size(); ++p) {
        if (!pieces[p].is_variable) {
            out += pieces[p].text;
            continue;
        }
        const auto i = t.field_of_piece[p];
        if (i < 0 || static_cast<std::size_t>(i) >= record.fields.size()) return pieces[p].text;
        out += record.fields[static_cast<std::size_t>(i)].value;
    }
    return std::nullopt;
}

// Boost.JSON does the escaping (quotes, backslashes, control characters);
// the serializer is reused, so this allocates nothing once warm.
void row_builder::state::append_json_string(std::string& out, std::string_view text) {
    serializer.reset(text);
    char chunk[512];
    while (!serializer.done()) out += serializer.read(chunk, sizeof chunk);
}

void row_builder::state::write_body(std::string& body, std::string_view assistant_id, std::string_view title_text,
                                    std::string_view message_text, std::string_view start, std::string_view end) {
    body.clear();
    body += '{';
    const auto key = [&](std::string_view name) {
        if (body.size() > 1) body += ',';
        body += '"';
        body += name;
        body += "\":";
    };
    if (!assistant_id.empty()) {
        key("assistant_id");
        append_json_string(body, assistant_id);
    }
    if (!title_text.empty()) {
        key("title");
        append_json_string(body, title_text);
    }
    if (!message_text.empty()) {
        key("message");
        body += "[{\"type\":\"text\",\"text\":";
        append_json_string(body, message_text);
        if (!start.empty()) {
            body += ",\"start_timestamp\":";
            body += start;   // checked against the JSON number grammar
        }
        if (!end.empty()) {
            body += ",\"end_timestamp\":";
            body += end;
        }
        body += "}]";
    }
    body += '}';
}

// SHA-256 of key + "\n" + line: stable across runs of the same input, and two
// rows with the same ids on different lines still differ.
//
// OpenSSL's SHA-256 primitive rather than EVP: OpenSSL 3.0's EVP_DigestInit
// creates a provider context (a malloc and free) for every digest, and one
// digest a row made that 27 % of `validate`'s time (EVP 107 ns a digest, the
// primitive 61 ns, measured here). The primitive is marked deprecated in 3.0
// but is the same code EVP runs.
void row_builder::state::write_idempotency_key(chat_request& request) {
    char line_text[24];
    const auto line_length =
        static_cast<std::size_t>(std::to_chars(line_text, line_text + sizeof line_text, request.line).ptr - line_text);
    unsigned char hash[SHA256_DIGEST_LENGTH];
    SHA256_CTX digest;
    if (!SHA256_Init(&digest) || !SHA256_Update(&digest, request.key.data(), request.key.size()) ||
        !SHA256_Update(&digest, "\n", 1) || !SHA256_Update(&digest, line_text, line_length) ||
        !SHA256_Final(hash, &digest))
        throw std::runtime_error("SHA-256 failed");
    constexpr char hex[] = "0123456789abcdef";
    request.idempotency_key.resize(2 * SHA256_DIGEST_LENGTH);
    char* out = request.idempotency_key.data();   // a local pointer: char stores may alias the string's own
    for (unsigned int i = 0; i < SHA256_DIGEST_LENGTH; ++i) {
        *out++ = hex[hash[i] >> 4];
        *out++ = hex[hash[i] & 0x0F];
    }
}

row_builder::row_builder(const row_defaults& defaults,
                         const std::vector<std::pair<std::string, std::string>>& field_map)
    : state_(std::make_unique<state>()) {
    auto& s = *state_;
    s.defaults = defaults;
    for (std::size_t k = 0; k < known_field_count; ++k) s.columns[k] = known_field_names[k];
    for (const auto& [field_name, column] : field_map) {
        const auto field = parse_known_field(field_name);
        if (!field)
            throw input_error(fmt::format("--map {}={}: {} is not a known field (known: {})", field_name, column,
                                          field_name, fmt::join(known_field_names, ", ")));
        if (column.empty()) throw input_error(fmt::format("--map {}=: the column name is empty", field_name));
        s.columns[index(*field)] = column;
    }
    for (std::size_t k = 0; k < known_field_count; ++k) {
        for (std::size_t other = 0; other < k; ++other)
            if (s.columns[other] == s.columns[k])
                throw input_error(fmt::format("--map: column \"{}\" holds both {} and {}", s.columns[k],
                                              known_field_names[other], known_field_names[k]));
        s.labels[k] = s.columns[k] == known_field_names[k] ? s.columns[k]
                                                           : fmt::format("{} ({})", s.columns[k], known_field_names[k]);
    }
    // Defaults are checked once here, so a row whose values are valid UTF-8
    // gives valid UTF-8 whatever defaults and templates add.
    for (const auto& [name, text] : {std::pair{"org_id", &defaults.org_id},
                                     {"assistant_id", &defaults.assistant_id},
                                     {"title", &defaults.title},
                                     {"message", &defaults.message}})
        if (!simdjson::validate_utf8(*text)) throw input_error(fmt::format("the default {} is not valid UTF-8", name));
    if (has_control_character(defaults.org_id)) throw input_error("the default org_id contains a control character");
    if (is_dot_segment(defaults.org_id)) throw input_error(fmt::format("the default org_id {}", dot_segment_issue));
    s.title.source = text_template(defaults.title, "title");
    s.message.source = text_template(defaults.message, "message");
    for (auto* t : {&s.title, &s.message}) t->field_of_piece.assign(t->source.pieces().size(), -1);
}

row_builder::~row_builder() = default;

const std::string& row_builder::column_of(known_field field) const noexcept {
    return state_->columns[index(field)];
}

void row_builder::check_header(const std::vector<std::string>& header, const std::string& display_name) const {
    for (const auto field : {known_field::contact_id, known_field::channel_id}) {
        if (std::find(header.begin(), header.end(), column_of(field)) == header.end())
            throw input_error(
                fmt::format("{}:1: the header has no {} column", display_name, state_->labels[index(field)]));
    }
}

void row_builder::build(const input_record& record, built_row& out) {
    auto& s = *state_;
    auto& request = out.request;
    out.valid = false;
    out.reason.clear();
    request.line = record.line;
    request.key.clear();
    request.body.clear();
    request.idempotency_key.clear();
    if (s.generation != record.names_generation) s.resolve(record);

    const auto value_of = [&](known_field field) {
        const auto* f = s.find(record, field);
        return f ? f->value : std::string_view();
    };
    const auto org_value = value_of(known_field::org_id);
    request.org_id.assign(org_value.empty() ? std::string_view(s.defaults.org_id) : org_value);
    request.contact_id.assign(value_of(known_field::contact_id));
    request.channel_id.assign(value_of(known_field::channel_id));
    const auto invalid = [&](std::string_view reason) { out.reason.assign(reason); };
    const auto valid_utf8 = [&](std::string_view text) { return record.valid_utf8 || simdjson::validate_utf8(text); };

    // The ids and key are filled in even for an invalid row when they are
    // usable, so the journal can name the row.
    std::string_view id_issue;
    known_field bad_id = known_field::contact_id;
    for (const auto field : {known_field::contact_id, known_field::channel_id, known_field::org_id}) {
        const std::string_view id = field == known_field::contact_id   ? request.contact_id
                                    : field == known_field::channel_id ? request.channel_id
                                                                       : request.org_id;
        id_issue = id.empty()                  ? (s.find(record, field) ? "is empty" : "is missing")
                   : !valid_utf8(id)           ? "is not valid UTF-8"
                   : has_control_character(id) ? "contains a control character"
                   : is_dot_segment(id)        ? dot_segment_issue
                                               : "";
        if (!id_issue.empty()) {
            bad_id = field;
            break;
        }
    }
    if (id_issue.empty()) append_chat_key(request.key, request.org_id, request.contact_id, request.channel_id);

    if (!record.problem.empty()) return invalid(record.problem);
    if (s.repeated) return invalid(fmt::format("{} appears twice", s.labels[index(*s.repeated)]));
    for (std::size_t k = 0; k < known_field_count; ++k) {
        const auto* f = s.find(record, static_cast<known_field>(k));
        if (f && f->kind != value_kind::text && f->kind != value_kind::number)
            return invalid(fmt::format("{} is {}; expected a string or a number", s.labels[k], to_string(f->kind)));
    }
    if (!id_issue.empty()) return invalid(fmt::format("{} {}", s.labels[index(bad_id)], id_issue));

    auto assistant_id = value_of(known_field::assistant_id);
    if (assistant_id.empty()) assistant_id = s.defaults.assistant_id;
    if (!valid_utf8(assistant_id))
        return invalid(fmt::format("{} is not valid UTF-8", s.labels[index(known_field::assistant_id)]));

    // A row's own title or message is taken literally; only defaults are templates.
    const auto text_of = [&](known_field field, const state::compiled_template& compiled, std::string& rendered,
                             std::string_view& text) {
        text = value_of(field);
        if (text.empty()) {
            if (const auto missing = s.render(compiled, record, rendered)) {
                invalid(
                    fmt::format("unknown template variable {{{{{}}}}} in the default {}", *missing, to_string(field)));
                return false;
            }
            text = rendered;
        }
        if (!valid_utf8(text)) {
            invalid(fmt::format("{} is not valid UTF-8", s.labels[index(field)]));
            return false;
        }
        return true;
    };
    std::string_view title;
    std::string_view message;
    if (!text_of(known_field::title, s.title, s.rendered_title, title) ||
        !text_of(known_field::message, s.message, s.rendered_message, message))
        return;
    // No more bytes than the limit means no more characters either.
    if (const auto chars = title.size() > max_title_chars ? code_points(title) : 0; chars > max_title_chars)
        return invalid(fmt::format("{} has {} characters; at most {} are allowed", s.labels[index(known_field::title)],
                                   chars, max_title_chars));

    const auto start = value_of(known_field::start_timestamp);
    const auto end = value_of(known_field::end_timestamp);
    for (const auto& [field, text] :
         {std::pair{known_field::start_timestamp, start}, std::pair{known_field::end_timestamp, end}}) {
        if (!text.empty() && !is_json_number(text))
            return invalid(fmt::format("{} is not a number", s.labels[index(field)]));
    }

    s.write_body(request.body, assistant_id, title, message, start, end);
    s.write_idempotency_key(request);
    out.valid = true;
}

}   // namespace invent_dispatch
