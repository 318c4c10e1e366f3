// The Chat template and its renderer. The text follows the documented
// example field for field, with its "<string>" placeholders replaced by
// plausible values and {{name}} markers where a chat's own data goes.
#include "chat_template.hpp"

#include <stdexcept>

namespace invent_dispatch::mock_detail {
namespace {

constexpr std::string_view chat_json =
    R"json({"id":"{{id}}","title":"{{title}}","model":"gpt-4.1-mini","members":[{"id":"mem_contact",)json"
    R"json("role":"USER","user":{"id":"usr_contact","name":"Contact","avatar":""},)json"
    R"json("session":{"id":"ses_mock"},"contact_channel":{"id":"{{channel_id}}","type":"custom",)json"
    R"json("user_id":"usr_contact","avatar":"","name":"Contact","username":"contact",)json"
    R"json("email":"contact@example.com","phone":"+10000000000","country":"US",)json"
    R"json("agent":"invent-dispatch","ip":"127.0.0.1","language":"en","contact":{"id":"{{contact_id}}",)json"
    R"json("name":"Contact","blocked":false,"is_admin":false},"link":""}}],"temporary":false,)json"
    R"json("visibility":"PRIVATE","pinned":false,"status":"RUNNING","shared_url":"",)json"
    R"json("created_at":"{{created_at}}","updated_at":"{{updated_at}}",)json"
    R"json("tools":[{"name":"end_conversation","display_name":"End conversation",)json"
    R"json("action_name":"end_conversation","description":"Ends the conversation",)json"
    R"json("icon":"StepFormIcon","icon_url":"","parameters":{},"enabled_by_default":true,"callback":"",)json"
    R"json("validation":""}],"features":{"web_search":{},"reasoning":{"effort":"low"}},)json"
    R"json("org_id":"{{org_id}}","state":{"id":"st_{{id}}","state":"OPEN","integration_id":"custom",)json"
    R"json("assistant_id":"{{assistant_id}}","assistant_integration_id":"",)json"
    R"json("conversation_id":"conv_{{id}}","ai_enabled":true,"admin_unseen_count":0,)json"
    R"json("user_unseen_count":0,"assistant":{"id":"{{assistant_id}}","name":"Assistant",)json"
    R"json("enabled":true,"avatar_url":"","deleted":false,)json"
    R"json("config":{"conversation":{"welcome_banner":"","suggested_messages":["Hello"],)json"
    R"json("auto_intro_message":"","enable_auto_csat":true}}},"assistant_integration":{"id":"",)json"
    R"json("enabled":true,"has_connection":true},"assigned_user":{"id":"usr_admin","name":"Admin",)json"
    R"json("email":"admin@example.com","avatar":"","seen_at":"{{created_at}}"},)json"
    R"json("assigned_at":"{{created_at}}","assistant_config":{"language":"auto","model":"gpt-4.1-mini",)json"
    R"json("stt":{"model":"whisper-1"},"tts":{"model":"tts-1","voice_id":"alloy"},)json"
    R"json("conversation":{"thread_mode":"new","enable_memories":true,)json"
    R"json("enable_transfer_to_human_tool":true,"welcome_banner":"","suggested_messages":["Hello"],)json"
    R"json("auto_intro_message":"","enable_end_conversation_tool":true,)json"
    R"json("enable_block_contact_tool":true,"enable_auto_resolve":true,"enable_auto_follow_ups":true,)json"
    R"json("enable_auto_csat":true,"enable_private_chats":true,"enable_update_contact_tool":true},)json"
    R"json("knowledge_scope":"all","timezone":"UTC","instructions":""},"follow_up_at":"{{created_at}}",)json"
    R"json("csat_score":0,"last_contact_message_at":"{{created_at}}"},"link":"{{link}}",)json"
    R"json("last_message":{"id":"msg_{{id}}","role":"user","model":"gpt-4.1-mini","status":"RUNNING",)json"
    R"json("created_at":"{{created_at}}","updated_at":"{{updated_at}}","messages":[{"role":"user",)json"
    R"json("parts":[{"type":"text","text":"","audio":{"id":"","file_path":"","file_filename":"",)json"
    R"json("file_size":0,"file_mimetype":"","file_url":"","created_at":"{{created_at}}"},)json"
    R"json("start_timestamp":0,"end_timestamp":0}]}],"tools":[{"name":"end_conversation",)json"
    R"json("display_name":"End conversation","action_name":"end_conversation",)json"
    R"json("description":"Ends the conversation","icon":"StepFormIcon","icon_url":"","parameters":{},)json"
    R"json("enabled_by_default":true,"callback":"","validation":""}],"features":{"web_search":{},)json"
    R"json("reasoning":{"effort":"low"}},"member":{"id":"mem_contact","role":"USER",)json"
    R"json("user":{"id":"usr_contact","name":"Contact","avatar":""},"session":{"id":"ses_mock"},)json"
    R"json("contact_channel":{"id":"{{channel_id}}","type":"custom","user_id":"usr_contact",)json"
    R"json("avatar":"","name":"Contact","username":"contact","email":"contact@example.com",)json"
    R"json("phone":"+10000000000","country":"US","agent":"invent-dispatch","ip":"127.0.0.1",)json"
    R"json("language":"en","contact":{"id":"{{contact_id}}","name":"Contact","blocked":false,)json"
    R"json("is_admin":false},"link":""}},"error":"","broadcast_id":"","is_broadcast_message":false,)json"
    R"json("usage":{"input_tokens":0,"output_tokens":0,"total_tokens":0,"reasoning_tokens":0,)json"
    R"json("input_tokens_cache_read":0,"input_tokens_cache_write":0,"turns":[{"input_tokens":0,)json"
    R"json("output_tokens":0,"total_tokens":0,"reasoning_tokens":0,"input_tokens_cache_read":0,)json"
    R"json("input_tokens_cache_write":0}]}},"referral":{"type":"messenger_ad","parts":[{"type":"file",)json"
    R"json("url":"","kind":"voice","file":{"id":"","file_path":"","file_filename":"document.pdf",)json"
    R"json("file_size":1024,"file_mimetype":"application/pdf","file_url":"",)json"
    R"json("created_at":"{{created_at}}"},"auto_consume":true,"start_timestamp":123,)json"
    R"json("end_timestamp":123}],"ref":"","ad_id":"","source":"","referer_uri":"",)json"
    R"json("ads_context_data":{"ad_title":"","photo_url":"","video_url":"","post_id":"",)json"
    R"json("product_id":""}}})json";

constexpr std::string_view link_prefix = "https://app.useinvent.com/chats/";

}   // namespace

chat_template::chat_template() {
    static constexpr std::pair<std::string_view, field> names[] = {
        {"id", field::id},         {"title", field::title},           {"assistant_id", field::assistant_id},
        {"org_id", field::org_id}, {"contact_id", field::contact_id}, {"channel_id", field::channel_id},
        {"link", field::link},     {"created_at", field::timestamp},  {"updated_at", field::timestamp},
    };
    std::string_view rest = chat_json;
    while (!rest.empty()) {
        const auto open = rest.find("{{");
        if (open == std::string_view::npos) {
            pieces_.push_back({rest, field::none});
            break;
        }
        const auto close = rest.find("}}", open);
        const auto name = rest.substr(open + 2, close - open - 2);
        field value = field::none;
        for (const auto& [known, which] : names)
            if (known == name) value = which;
        if (value == field::none) throw std::logic_error("chat template: unknown field");
        pieces_.push_back({rest.substr(0, open), value});
        rest.remove_prefix(close + 2);
    }
    for (const auto& p : pieces_) fixed_size_ += p.literal.size();
}

void chat_template::render(std::string& out, const chat_fields& fields) const {
    // Fields are short; 512 bytes of slack avoids regrowth for typical titles.
    out.reserve(out.size() + fixed_size_ + fields.title.size() + 512);
    for (const auto& p : pieces_) {
        out += p.literal;
        switch (p.value) {
        case field::none: break;
        case field::id: out += fields.id; break;
        case field::title: append_json_escaped(out, fields.title); break;
        case field::assistant_id: append_json_escaped(out, fields.assistant_id); break;
        case field::org_id: append_json_escaped(out, fields.org_id); break;
        case field::contact_id: append_json_escaped(out, fields.contact_id); break;
        case field::channel_id: append_json_escaped(out, fields.channel_id); break;
        case field::link:
            out += link_prefix;
            out += fields.id;
            break;
        case field::timestamp: out += fields.timestamp; break;
        }
    }
}

}   // namespace invent_dispatch::mock_detail
