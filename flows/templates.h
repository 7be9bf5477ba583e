// accelgen::flows — the text templates of flows/ (flows/*.v.in: the Icarus replay testbench),
// embedded in the binary at build time by cmake/embed_templates.cmake.
#pragma once

#include <string_view>

namespace accelgen::flows {

// Text of flows/<name>.v.in; throws std::logic_error for an unknown name.
std::string_view template_text(std::string_view name);

}  // namespace accelgen::flows
