#pragma once
#include <iosfwd>

namespace invent_dispatch {

// `invent-dispatch demo`: the mock on a free loopback port with a generated
// certificate, examples/contacts.csv dispatched through the same code as
// `run`, the summary printed. Returns run's exit status.
int run_demo(std::ostream& out, bool terminal);

} // namespace invent_dispatch
