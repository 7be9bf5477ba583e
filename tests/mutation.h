// Mutant schemata over generated Verilog (the mutation bench, tests/mutation_bench.cpp; tests/README.md
// "Mutants"). Every mutant of a design goes into ONE copy of its RTL, each guarded by a selector read
// once from a plusarg: in each mutated module
//
//   integer mut_sel;  initial if (!$value$plusargs("mut=%d", mut_sel)) mut_sel = 0;
//
// and each mutated expression E becomes `(mut_sel == 7) ? (E7) : (mut_sel == 8) ? (E8) : (E)`. One
// Verilator build per config then runs any mutant with +mut=N, and +mut=0 (or none) is the
// unmutated design. Works on the generated text alone (no line numbers or names baked in), so the
// figures can be re-measured after any template change.
//
// Where mutants go: the right-hand side of `assign` and of `wire` declarations, the right-hand side
// of procedural assignments and `if` conditions in always blocks. Never in functions (they may be
// constant functions), `for` headers, `case` labels, declarations' ranges, parameters, generate
// conditions, or `ifndef SYNTHESIS` blocks (simulation-only checks).
//
// Operators (Mutant::op):
//   "comparison"  < <=  > >=  boundary shift (< to <=, <= to <, > to >=, >= to >), == to !=, != to ==
//   "swap"        operands of a non-commutative binary operator (- < <= > >= << >> <<< >>>) when
//                 both are simple (a name with an optional select, a number, a $signed(...) call)
//   "constant"    a number +1 and -1 when it stays in its width (a 1-bit constant flips), not in
//                 selects or replication counts
//   "logic"       & to |, | to &, && to ||, || to &&
//   "negate"      an if condition C to !(C)
//   "stuck-at-0", "stuck-at-1"  the whole right-hand side of an assignment to a handshake signal
//                 (a name containing "valid" or "ready")
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "gen/generator.h"

namespace accelgen::mutation {

struct Mutant {
  int id = 0;             // the +mut= value that selects it (1, 2, ...; 0 is the original design)
  std::string file;       // generated file
  int line = 0;           // 1-based line of the mutated operator in the unmutated file
  std::string op;         // see above
  std::string original;   // the expression as generated (whitespace collapsed)
  std::string mutated;    // the expression as mutated (whitespace collapsed)
};

// The schema of one file's text: `text` with every mutant of it guarded by mut_sel; mutants are
// numbered from `first_id`.
struct FileSchema {
  std::string text;
  std::vector<Mutant> mutants;
};
FileSchema schema_of_file(const std::string& text, const std::string& file, int first_id);

// The schema of a generated design: the files `select` accepts are mutated, the others copied.
struct Schema {
  gen::Outputs outputs;
  std::vector<Mutant> mutants;
};
Schema make_schema(const gen::Outputs& o, const std::function<bool(const std::string& file)>& select);

}  // namespace accelgen::mutation
