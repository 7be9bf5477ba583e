# Turns the Verilog templates gen/rtl/*.v.in into a C++ source file, so that the accelgen binary
# carries its templates and works from any directory. Run at build time:
#   cmake -DOUT=<file.cpp> -DINPUTS=<a.v.in;b.v.in> -P embed_templates.cmake
set(body "")
foreach(path IN LISTS INPUTS)
  get_filename_component(name "${path}" NAME)
  string(REGEX REPLACE "\\.v\\.in$" "" name "${name}")
  file(READ "${path}" text)
  string(APPEND body "    {\"${name}\", R\"accelgen_tpl(${text})accelgen_tpl\"},\n")
endforeach()
file(WRITE "${OUT}.tmp" "// Generated from gen/rtl/*.v.in by cmake/embed_templates.cmake -- do not edit.
#include \"gen/templates.h\"

#include <map>
#include <stdexcept>
#include <string>

namespace accelgen::gen {

std::string_view template_text(std::string_view name) {
  static const std::map<std::string, std::string, std::less<>> texts = {
${body}  };
  const auto it = texts.find(name);
  if (it == texts.end()) throw std::logic_error(\"no RTL template named \" + std::string(name));
  return it->second;
}

}  // namespace accelgen::gen
")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.tmp")
