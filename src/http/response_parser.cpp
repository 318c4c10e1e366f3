#include "invent_dispatch/response_parser.hpp"

#include "invent_dispatch/errors.hpp"

namespace invent_dispatch {
namespace {

namespace od = simdjson::ondemand;

// A string field: assigned when it is a string, left empty when null or of
// another type (the Chat is still usable). False on a structural error.
bool read_string(od::value value, std::string& out) {
    std::string_view text;
    const auto error = value.get_string().get(text);
    if (!error) {
        out.assign(text);
        return true;
    }
    return error == simdjson::INCORRECT_TYPE;
}

bool read_state(od::value value, std::string& out) {
    od::object state;
    if (value.get_object().get(state)) return true;   // absent or null state: not an error
    for (auto field : state) {
        std::string_view key;
        if (field.unescaped_key().get(key)) return false;
        if (key == "state") return read_string(field.value(), out);
    }
    return true;
}

}   // namespace

simdjson::padded_string_view padded(std::string& s) {
    if (s.capacity() < s.size() + simdjson::SIMDJSON_PADDING) s.reserve(s.size() + simdjson::SIMDJSON_PADDING);
    return simdjson::padded_string_view(s.data(), s.size(), s.capacity());
}

boost::system::error_code response_parser::parse_chat(simdjson::padded_string_view body, chat_info& out) {
    out.id.clear();
    out.status.clear();
    out.link.clear();
    out.state.clear();
    out.created_at.clear();

    problem_ = "the body is not a JSON object";
    od::document doc;
    od::object chat;
    if (parser_.iterate(body).get(doc) || doc.get_object().get(chat)) return dispatch_errc::not_a_chat;
    // One pass in document order; values we do not need are skipped unparsed.
    for (auto field : chat) {
        std::string_view key;
        if (field.unescaped_key().get(key)) return dispatch_errc::not_a_chat;
        bool ok = true;
        if (key == "id")
            ok = read_string(field.value(), out.id);
        else if (key == "status")
            ok = read_string(field.value(), out.status);
        else if (key == "link")
            ok = read_string(field.value(), out.link);
        else if (key == "created_at")
            ok = read_string(field.value(), out.created_at);
        else if (key == "state")
            ok = read_state(field.value(), out.state);
        if (!ok) return dispatch_errc::not_a_chat;
    }
    // A truncated body fails while iterating above: it is not a Chat,
    // whatever it began with.
    if (out.id.empty()) {
        problem_ = "the body has no \"id\"";
        return dispatch_errc::not_a_chat;
    }
    problem_ = {};
    return {};
}

std::string response_parser::error_message(simdjson::padded_string_view body) {
    std::string message;
    od::document doc;
    od::object object;
    if (parser_.iterate(body).get(doc) || doc.get_object().get(object)) return message;
    for (auto field : object) {
        std::string_view key;
        if (field.unescaped_key().get(key)) break;
        if (key == "message" || key == "detail") {
            if (read_string(field.value(), message) && !message.empty()) break;
        } else if (key == "error") {
            od::value value;
            if (field.value().get(value)) break;
            od::object nested;
            if (!value.get_object().get(nested)) {
                for (auto inner : nested) {
                    std::string_view inner_key;
                    if (inner.unescaped_key().get(inner_key)) break;
                    if (inner_key == "message") {
                        read_string(inner.value(), message);
                        break;
                    }
                }
            } else {
                read_string(value, message);
            }
            if (!message.empty()) break;
        }
    }
    return message;
}

}   // namespace invent_dispatch
