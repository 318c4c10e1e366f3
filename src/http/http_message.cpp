#include "invent_dispatch/http_message.hpp"

#include "invent_dispatch/encoding.hpp"

namespace invent_dispatch {

http_request chat_creation(const chat_request& row, std::string_view base_path, std::string& target) {
    target.assign(base_path);
    append_chat_path(target, row.key);
    return {"POST", target, row.body, row.idempotency_key};
}

}   // namespace invent_dispatch
