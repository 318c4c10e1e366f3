#include <fmt/format.h>

#include "invent_dispatch/config.hpp"

namespace invent_dispatch {

std::string describe(const dispatch_config& c) {
    const auto rate = !c.rate           ? std::string("unlimited")
                      : c.rate->adaptive ? fmt::format("auto:{:g}/s burst {:g}", c.rate->per_second, c.rate->burst)
                                         : fmt::format("{:g}/s burst {:g}", c.rate->per_second, c.rate->burst);
    const auto shard = c.admission.shard ? fmt::format("{}/{}", c.admission.shard->index, c.admission.shard->count)
                                         : std::string("all");
    const auto deadline = c.deadline ? fmt::format("{}ms", c.deadline->count()) : std::string("none");
    return fmt::format(
        "input={} results={} api={} org_id={} concurrency={} rate={} max_attempts={} timeout={}ms deadline={} "
        "shard={} retry_unknown={} retry_ambiguous={} allow_duplicates={} strict={} ca_file={} insecure={} proxy={}",
        c.input.path, c.results_path, c.base_url, c.defaults.org_id, c.concurrency, rate, c.retry.max_attempts,
        c.client.timeout.count(), deadline, shard, c.admission.retry_unknown, c.retry.retry_ambiguous,
        c.admission.allow_duplicates, c.strict, c.client.ca_file.value_or("-"), c.client.insecure,
        c.client.proxy ? c.client.proxy->display : std::string("none"));
}

} // namespace invent_dispatch
