// Generator tests: the template engine, determinism, the checked-in golden RTL of the default
// config (rtl/ag, refreshed by `cmake --build build --target update-golden-rtl`), and structural
// rules every generated file must follow.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "core/config.h"
#include "core/nm_config.h"
#include "gen/generator.h"
#include "gen/nm_generator.h"
#include "gen/template.h"
#include "tests/test_support.h"

namespace accelgen {
namespace {

namespace fs = std::filesystem;

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(Template, FillsHolesAndRejectsMissingValues) {
  EXPECT_EQ(gen::fill("a ${x} b ${y}${x}", {{"x", "1"}, {"y", "22"}}), "a 1 b 221");
  EXPECT_THROW(gen::fill("${nope}", {}), std::logic_error);
  EXPECT_THROW(gen::fill("${open", {}), std::logic_error);
}

TEST(Template, SelectsBlocksByFlag) {
  const std::string t = "a\n//@if p\nb\n//@endif\n//@if q\nc\n//@endif\nd\n";
  EXPECT_EQ(gen::select_blocks(t, {{"p", true}, {"q", false}}), "a\nb\nd\n");
  EXPECT_EQ(gen::select_blocks(t, {{"p", false}, {"q", true}}), "a\nc\nd\n");
  EXPECT_THROW(gen::select_blocks(t, {{"p", true}}), std::logic_error);  // q unknown
  EXPECT_THROW(gen::select_blocks("//@if p\n//@if p\n//@endif\n", {{"p", true}}), std::logic_error);
  EXPECT_THROW(gen::select_blocks("//@if p\nx\n", {{"p", true}}), std::logic_error);
  const std::string e = "a\n//@if p\nb\n//@else\nc\n//@endif\nd\n";
  EXPECT_EQ(gen::select_blocks(e, {{"p", true}}), "a\nb\nd\n");
  EXPECT_EQ(gen::select_blocks(e, {{"p", false}}), "a\nc\nd\n");
  EXPECT_THROW(gen::select_blocks("//@else\n", {{"p", true}}), std::logic_error);
  EXPECT_THROW(gen::select_blocks("//@if p\n//@else\n//@else\n//@endif\n", {{"p", true}}),
               std::logic_error);
}

// A module template declares the plan parameters it reads; the renderer puts those the port list
// needs into the header and the rest into localparams, and refuses every mistake by name.
class RenderModule : public ::testing::Test {
 protected:
  std::string render(const std::string& tpl, gen::Vars texts = {{"prefix", "x"}}) {
    return gen::render_module("t", tpl, {&params_, &flags_, std::move(texts)});
  }
  std::string error(const std::string& tpl, gen::Vars texts = {{"prefix", "x"}}) {
    try {
      render(tpl, std::move(texts));
    } catch (const std::logic_error& e) {
      return e.what();
    }
    return "";
  }
  std::vector<gen::Param> params_ = {{"Width", 8, "w: data"}, {"Depth", 4, "entries"}};
  std::map<std::string, bool> flags_ = {{"big", true}};
};

TEST_F(RenderModule, PortParametersGoToTheHeaderTheRestToLocalparams) {
  const std::string out = render(
      "//@uses Width Depth\nmodule ${prefix}_m (\n  input wire [Width-1:0] a_i\n);\n"
      "  reg [Width-1:0] mem [0:Depth-1];\n  wire [${Width}:0] z = ${Width}'d0;\nendmodule\n");
  // The comment column is aligned as if every value had its separator, hence three spaces here.
  EXPECT_EQ(out,
            "module x_m #(\n"
            "  parameter integer Width = 8   // w: data\n"
            ") (\n"
            "  input wire [Width-1:0] a_i\n"
            ");\n"
            "  localparam integer Depth = 4;  // entries\n"
            "  reg [Width-1:0] mem [0:Depth-1];\n"
            "  wire [8:0] z = 8'd0;\n"
            "endmodule\n");
}

TEST_F(RenderModule, RefusesUnknownUndeclaredAndUnusedNames) {
  const std::string body = "module ${prefix}_m (\n  input wire [Width-1:0] a_i\n);\nendmodule\n";
  EXPECT_EQ(error("//@uses Width\n" + body), "");
  EXPECT_NE(error("//@uses Width Widht\n" + body).find("unknown parameter Widht"), std::string::npos);
  EXPECT_NE(error(body).find("uses Width without //@uses"), std::string::npos);
  EXPECT_NE(error("//@uses Width Depth\n" + body).find("declares Depth but"), std::string::npos);
  // A name in a comment is not a use.
  EXPECT_NE(error("//@uses Width Depth\n// Depth entries\n" + body).find("declares Depth"),
            std::string::npos);
  EXPECT_NE(error("//@uses Width\n" + body + "// ${Depth}\n").find("${Depth}"), std::string::npos);
  EXPECT_NE(error("//@uses Width\n" + body, {{"prefix", "x"}, {"table", "t"}}).find("${table} unused"),
            std::string::npos);
  EXPECT_NE(error("//@uses Width\n" + body, {}).find("${prefix}"), std::string::npos);
}

TEST_F(RenderModule, UsesInsideABlockDeclareOnlyWhenTheBlockIsKept) {
  const std::string tpl =
      "//@uses Width\nmodule ${prefix}_m (\n  input wire [Width-1:0] a_i\n);\n"
      "//@if big\n//@uses Depth\n  wire [Depth-1:0] d;\n//@endif\nendmodule\n";
  EXPECT_NE(render(tpl).find("localparam integer Depth = 4;"), std::string::npos);
  flags_["big"] = false;
  EXPECT_EQ(render(tpl).find("Depth"), std::string::npos);
}

TEST(Generator, SameConfigGivesByteIdenticalOutput) {
  core::AttentionConfig c;
  c.d = 7;
  c.lanes = 3;
  const gen::Outputs a = gen::generate(c);
  const gen::Outputs b = gen::generate(c);
  ASSERT_EQ(a.files.size(), b.files.size());
  for (size_t i = 0; i < a.files.size(); ++i) {
    EXPECT_EQ(a.files[i].name, b.files[i].name);
    EXPECT_EQ(a.files[i].content, b.files[i].content) << a.files[i].name;
  }
}

// "memory" changes how the flows cost the memories, never the RTL (docs/memory.md): both modes give
// the same Verilog files, line for line, except the banner's config hash. So the
// regression and the Icarus cross-check, run on the RTL, cover both modes.
std::string without_config_lines(const std::string& text) {
  std::istringstream in(text);
  std::string out;
  for (std::string line; std::getline(in, line);)
    if (line.rfind("// Config '", 0) != 0) out += line + "\n";
  return out;
}

TEST(Generator, MemoryModeChangesOnlyTheBannerHash) {
  core::AttentionConfig a;
  a.lanes = 4;
  a.key_banks = 2;
  core::AttentionConfig am = a;
  am.memory = "macro";
  core::NmConfig n;
  core::NmConfig nm = n;
  nm.memory = "macro";
  const std::pair<gen::Outputs, gen::Outputs> pairs[] = {{gen::generate(a), gen::generate(am)},
                                                         {gen::generate_nm(n), gen::generate_nm(nm)}};
  for (const auto& [flops, macro] : pairs) {
    ASSERT_EQ(flops.files.size(), macro.files.size());
    int rtl = 0;
    ASSERT_EQ(flops.rtl_files, macro.rtl_files);
    for (size_t i = 0; i < flops.files.size(); ++i) {
      ASSERT_EQ(flops.files[i].name, macro.files[i].name);
      const auto& v = flops.rtl_files;
      if (std::find(v.begin(), v.end(), flops.files[i].name) == v.end()) continue;  // file list, params, manifest
      EXPECT_NE(flops.files[i].content, macro.files[i].content) << flops.files[i].name << ": same banner hash";
      EXPECT_EQ(without_config_lines(flops.files[i].content), without_config_lines(macro.files[i].content))
          << flops.files[i].name;
      ++rtl;
    }
    EXPECT_GT(rtl, 3);
  }
}

// Golden text (CIRCT-style): the output of one config per block is checked in under rtl/<name>
// (the attention unit's default config, rtl/ag, and the 2:4 N:M regression config, rtl/n2m4). A
// change to a template shows up here as a diff to review; accept it with the update-golden-rtl
// target.
void expect_matches_checked_in(const gen::Outputs& o, const fs::path& golden) {
  size_t on_disk = 0;
  for (const auto& e : fs::directory_iterator(golden)) on_disk += e.path().filename() != "README.md";
  EXPECT_EQ(on_disk, o.files.size()) << golden << " holds a different set of files";
  for (const auto& f : o.files) {
    EXPECT_EQ(read_file(golden / f.name), f.content)
        << f.name << " differs from " << golden
        << "; if intended: cmake --build build --target update-golden-rtl";
  }
}

TEST(Generator, DefaultConfigMatchesCheckedInRtl) {
  const fs::path src = ACCELGEN_SOURCE_DIR;
  const core::AttentionConfig c = core::load_attention_config((src / "configs/default.json").string());
  expect_matches_checked_in(gen::generate(c), src / "rtl/ag");
}

TEST(Generator, NmConfigMatchesCheckedInRtl) {
  const fs::path src = ACCELGEN_SOURCE_DIR;
  const core::NmConfig c = core::load_nm_config((src / "configs/nm/n2m4.json").string());
  expect_matches_checked_in(gen::generate_nm(c), src / "rtl/n2m4");
}

class GeneratorRules : public ::testing::TestWithParam<bool> {};

TEST_P(GeneratorRules, OneModulePerFileNamedAfterItWithBanner) {
  core::AttentionConfig c;
  c.name = "zz";
  c.dense_baseline = GetParam();
  const gen::Outputs o = gen::generate(c);
  const std::regex module_decl(R"(^module\s+(\w+))", std::regex::multiline);
  for (const auto& name : o.rtl_files) {
    const auto it = std::find_if(o.files.begin(), o.files.end(),
                                 [&](const gen::GeneratedFile& f) { return f.name == name; });
    ASSERT_NE(it, o.files.end());
    const std::string& text = it->content;
    std::vector<std::string> modules;
    for (auto m = std::sregex_iterator(text.begin(), text.end(), module_decl); m != std::sregex_iterator(); ++m) {
      modules.push_back((*m)[1]);
    }
    ASSERT_EQ(modules.size(), 1u) << name;
    EXPECT_EQ(modules[0] + ".v", name);
    EXPECT_NE(text.find("Generated by accelgen " + std::string(gen::tool_version())), std::string::npos);
    EXPECT_NE(text.find("hash " + core::config_hash(c)), std::string::npos) << name;
    EXPECT_EQ(text.find("${"), std::string::npos) << name << ": unfilled template hole";
    EXPECT_EQ(text.find("//@"), std::string::npos) << name << ": template marker left";
    for (char ch : text) ASSERT_TRUE(ch == '\n' || (ch >= 32 && ch < 127)) << name << ": non-ASCII";
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) EXPECT_LE(line.size(), 100u) << name << ": " << line;
  }
  EXPECT_EQ(o.rtl_files.back(), o.top + ".v") << "the top comes last in the filelist";
  EXPECT_EQ(c.dense_baseline, std::find(o.rtl_files.begin(), o.rtl_files.end(), "zz_bound_table.v") ==
                                  o.rtl_files.end())
      << "the dense baseline has no bound table";
}

TEST_P(GeneratorRules, TopDeclaresExactlyTheManifestPorts) {
  core::AttentionConfig c;
  c.dense_baseline = GetParam();
  const gen::Outputs o = gen::generate(c);
  const auto top = std::find_if(o.files.begin(), o.files.end(),
                                [&](const gen::GeneratedFile& f) { return f.name == o.top + ".v"; });
  ASSERT_NE(top, o.files.end());
  std::vector<std::tuple<std::string, bool, int>> declared;
  for (const auto& p : test_support::declared_ports(top->content)) {
    declared.emplace_back(p.name, p.input, static_cast<int>(p.width));
  }
  std::vector<std::tuple<std::string, bool, int>> expected;
  for (const auto& p : gen::unit_top_ports(c)) expected.emplace_back(p.name, p.input, p.width);
  EXPECT_EQ(declared, expected);
  const bool has_slot = std::any_of(expected.begin(), expected.end(),
                                    [](const auto& p) { return std::get<0>(p) == "q_slot_i"; });
  EXPECT_EQ(has_slot, !c.dense_baseline);
}

INSTANTIATE_TEST_SUITE_P(PrunedAndDense, GeneratorRules, ::testing::Values(false, true));

}  // namespace
}  // namespace accelgen
