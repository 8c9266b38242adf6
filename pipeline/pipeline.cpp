// PLACEHOLDER, replaced by the ingestion work: an idle pipeline so that the binary links.
#include "pipeline/pipeline.hpp"

namespace labeler::pipeline {

struct pipeline::impl {};
pipeline::pipeline(pipeline_deps, std::optional<std::uint64_t>) : impl_(std::make_unique<impl>()) {}
pipeline::~pipeline() = default;
void pipeline::start() {}
void pipeline::stop() {}
bool pipeline::source_finished() const { return true; }

}  // namespace labeler::pipeline
