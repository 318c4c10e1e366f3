#pragma once
// What an earlier run left in the journal, as admission reads it: the journal
// stage fills it (load_journal), admission decides with it. A leaf, so the
// admission stage needs nothing of the journal's.
#include <cstdint>
#include <string>
#include <vector>

#include "invent_dispatch/key_set.hpp"

namespace invent_dispatch {

// A row an earlier run sent without recording how it ended; its ids come
// from the key's segments.
struct dangling_send {
    std::uint64_t line;
    std::string key;
    std::string org_id;
    std::string contact_id;
    std::string channel_id;
};

// What an earlier run left. Keys are held compactly (key_set).
//
// Only records of a sent request speak for a key: `created` puts it in
// created for good (no later record un-creates a chat), `unknown` puts it in
// unknown, `failed` takes it out of unknown (a definite answer after
// --retry-unknown). `invalid` and `skipped` rows sent nothing and change
// nothing: a skipped duplicate of a created key must not let the next run
// send it again. A `sending` record is answered by a final record for the
// same row (line and key); one left unanswered is dangling.
struct resume_state {
    key_set created;   // a chat exists for these keys
    key_set unknown;   // unknown, or `sending` with no final record
    std::vector<dangling_send> dangling;   // `sending` without a final record, by line: to be recorded unknown
    std::uint64_t records = 0;   // row records read: not the header, not events
    bool repaired_torn_line = false;   // a torn last line was cut off
    std::string moved_from;   // the input the journal names, when only its content matched
};

}   // namespace invent_dispatch
