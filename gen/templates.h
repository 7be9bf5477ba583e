// accelgen::gen — the Verilog templates of gen/rtl/*.v.in, embedded in the binary at build time.
#pragma once

#include <string_view>

namespace accelgen::gen {

// Text of gen/rtl/<name>.v.in; throws std::logic_error for an unknown name.
std::string_view template_text(std::string_view name);

}  // namespace accelgen::gen
