#include <fmt/format.h>
#include <toml++/toml.h>

#include "settings.hpp"

namespace invent_dispatch::config_detail {
namespace {

// "file:line"; toml++ reports an unreadable file at line 0.
std::string where(const std::string& path, const toml::source_region& source) {
    if (source.begin.line == 0) return "config file " + path;
    return fmt::format("{}:{}", path, source.begin.line);
}

[[noreturn]] void wrong_type(const std::string& origin, std::string_view expected) {
    throw usage_error(fmt::format("{}: expected {}", origin, expected));
}

// A TOML number as the flag would spell it, so the same parsers read both.
std::optional<std::string> number_text(const toml::node& node) {
    if (const auto* i = node.as_integer()) return std::to_string(i->get());
    if (const auto* f = node.as_floating_point()) return fmt::format("{}", f->get());
    return std::nullopt;
}

std::vector<std::string> list_texts(const toml::node& node, const std::string& origin) {
    std::vector<std::string> texts;
    if (const auto* array = node.as_array()) {
        for (const auto& item : *array) {
            const auto* text = item.as_string();
            if (!text) wrong_type(origin, "an array of strings");
            texts.push_back(text->get());
        }
    } else if (const auto* table = node.as_table()) {
        // [map] contact_id = "ContactID" is the readable spelling of contact_id=ContactID.
        for (const auto& [field, column] : *table) {
            const auto* text = column.as_string();
            if (!text) wrong_type(origin, "a table of strings");
            texts.push_back(fmt::format("{}={}", field.str(), text->get()));
        }
    } else {
        wrong_type(origin, "an array of strings or a table");
    }
    return texts;
}

std::string scalar_text(const setting& s, const toml::node& node, const std::string& origin) {
    switch (s.kind) {
    case value_kind::text:
        if (const auto* text = node.as_string()) return text->get();
        wrong_type(origin, "a string");
    case value_kind::integer:
        if (const auto* i = node.as_integer()) return std::to_string(i->get());
        wrong_type(origin, "an integer");
    case value_kind::quantity:
        if (const auto* text = node.as_string()) return text->get();
        if (auto number = number_text(node)) return *number;
        wrong_type(origin, "a string or a number");
    case value_kind::boolean:
        if (const auto* b = node.as_boolean()) return b->get() ? "true" : "false";
        wrong_type(origin, "true or false");
    case value_kind::list: break;
    }
    throw std::logic_error("list settings are not scalars");
}

}   // namespace

setting_layer read_config_file(const std::string& path) {
    toml::table root;
    try {
        root = toml::parse_file(path);
    } catch (const toml::parse_error& e) {
        throw usage_error(fmt::format("{}: {}", where(path, e.source()), e.description()));
    }

    setting_layer layer;
    for (const auto& [key, node] : root) {
        const auto origin = fmt::format("{}: {}", where(path, key.source()), key.str());
        if (key.str() == "token")
            throw usage_error(fmt::format(
                "{}: the token does not belong in a config file; pass it in INVENT_API_TOKEN or token_file", origin));
        const auto* s = find_setting(key.str());
        if (!s) throw usage_error(fmt::format("{}: unknown key '{}'", where(path, key.source()), key.str()));
        setting_value value{{}, origin};
        if (s->kind == value_kind::list)
            value.texts = list_texts(node, origin);
        else
            value.texts.push_back(scalar_text(*s, node, origin));
        layer.emplace(s->key, std::move(value));
    }
    return layer;
}

}   // namespace invent_dispatch::config_detail
