// accelgen::flows — Boolean functions of Liberty cells: the `function` attribute of an output pin
// evaluated on pin values, and a truth-table comparison used to recognise a cell's job (a NAND2 for
// gate equivalents, a buffer for ABC) whatever the library calls it.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace accelgen::flows {

// Evaluates a liberty `function` string (operators ! ' & * | + ^, juxtaposition = AND, 0, 1).
// Throws std::runtime_error on a syntax error or an unknown pin.
bool eval_liberty_function(const std::string& function, const std::map<std::string, bool>& pins);

// True if `function` over `inputs` equals `expected` on every input combination; false as well for
// a function this evaluator cannot read.
bool function_is(const std::string& function, const std::vector<std::string>& inputs,
                 const std::function<bool(const std::vector<bool>&)>& expected);

}  // namespace accelgen::flows
