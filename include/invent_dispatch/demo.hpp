#pragma once
#include <iosfwd>

namespace invent_dispatch {

// `invent-dispatch demo`: the mock on a free loopback port with a generated
// certificate; a segment listed from it through the same code as `contacts`,
// then dispatched through the same code as `run`; both summaries printed.
// Returns the listing's exit status if it failed, else run's.
int run_demo(std::ostream& out, bool terminal);

}   // namespace invent_dispatch
