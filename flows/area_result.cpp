#include "flows/area_result.h"

namespace accelgen::flows {

namespace {

nlohmann::json module_seconds_json(const AreaResult& r) {
  nlohmann::json a = nlohmann::json::array();
  for (size_t i = 0; i < r.module_seconds.size(); ++i) {
    nlohmann::json m = {{"module", r.module_seconds[i].first}, {"seconds", r.module_seconds[i].second}};
    if (i < r.module_cpu_seconds.size()) m["cpu_seconds"] = r.module_cpu_seconds[i];
    a.push_back(m);
  }
  return a;
}

nlohmann::json num_or_null(bool available, double v) {
  return available ? nlohmann::json(v) : nlohmann::json(nullptr);
}

}  // namespace

nlohmann::json to_json(const AreaResult& r) {
  nlohmann::json modules = nlohmann::json::array();
  for (const auto& m : r.modules) {
    modules.push_back({{"name", m.name},
                       {"instances", m.instances},
                       {"area_um2", m.area_um2},
                       {"nand2_eq", num_or_null(r.nand2_area > 0, m.nand2_eq)},
                       {"flops", m.flops},
                       {"cells", m.cells}});
  }
  nlohmann::json memories = nlohmann::json::array();
  for (const auto& m : r.memories) {
    memories.push_back({{"module", m.module}, {"role", m.role}, {"instances", m.instances}, {"depth", m.depth},
                        {"width", m.width}, {"bits", m.bits}, {"area_um2", m.area_um2}, {"source", m.source},
                        {"clk_to_dout_ns", m.clk_to_dout_ns}, {"read_pj", m.read_pj}, {"write_pj", m.write_pj},
                        {"idle_pj_per_cycle", m.idle_pj_per_cycle}});
  }
  const bool t = r.timing_available;
  return {
      {"memory",
       {{"mode", r.memory_mode},
        {"area_um2", r.memory_um2},
        {"logic_area_um2", r.logic_um2},
        {"bits", r.memory_bits},
        {"memories", memories}}},
      {"feasible", r.feasible},
      {"reason", r.reason},
      {"top", r.top},
      {"area_um2", r.area_um2},
      {"nand2_eq", num_or_null(r.nand2_area > 0, r.nand2_eq)},
      {"flops", r.flops},
      {"cells", r.cells},
      {"critical_path_ns", num_or_null(t, r.critical_path_ns)},
      {"fmax_mhz", num_or_null(t, r.fmax_mhz)},
      {"modules", modules},
      {"timing",
       {{"available", t},
        {"note", r.timing_note},
        {"clock_period_ns", num_or_null(t, r.clock_period_ns)},
        {"slack_ns", num_or_null(t, r.slack_ns)},
        {"startpoint", r.critical_startpoint},
        {"endpoint", r.critical_endpoint},
        {"corner", r.corner},
        {"sdc", r.sdc_path}}},
      {"liberty",
       {{"name", r.liberty_name},
        {"path", r.liberty_path},
        {"hash", r.liberty_hash},
        {"nand2_cell", r.nand2_cell},
        {"nand2_area", r.nand2_area}}},
      {"yosys_version", r.yosys_version},
      {"sta_version", r.sta_version},
      {"flow",
       {{"script", r.synth_flow == "single-process" ? "flows/area.ys"
                                                      : "flows/area_elab.ys, area_module.ys"},
        {"synth_flow", r.synth_flow},
        {"synth_workers", r.synth_workers},
        {"module_synth_seconds", module_seconds_json(r)},
        {"sta_script", "flows/sta.tcl"},
        {"cache_key", r.cache_key},
        {"from_cache", r.from_cache},
        {"synth_seconds", r.synth_seconds},
        {"sta_seconds", r.sta_seconds},
        {"synth_cpu_seconds", r.synth_cpu_seconds},
        {"sta_cpu_seconds", r.sta_cpu_seconds}}},
  };
}

AreaResult area_result_from_json(const nlohmann::json& j) {
  auto num = [](const nlohmann::json& v) { return v.is_null() ? 0.0 : v.get<double>(); };
  AreaResult r;
  r.feasible = j.at("feasible").get<bool>();
  r.reason = j.at("reason").get<std::string>();
  r.top = j.at("top").get<std::string>();
  r.area_um2 = j.at("area_um2").get<double>();
  r.nand2_eq = num(j.at("nand2_eq"));
  r.flops = j.at("flops").get<int>();
  r.cells = j.at("cells").get<int>();
  r.critical_path_ns = num(j.at("critical_path_ns"));
  r.fmax_mhz = num(j.at("fmax_mhz"));
  for (const auto& m : j.at("modules")) {
    r.modules.push_back({m.at("name").get<std::string>(), m.at("instances").get<int>(),
                         m.at("area_um2").get<double>(), num(m.at("nand2_eq")), m.at("flops").get<int>(),
                         m.at("cells").get<int>()});
  }
  if (j.contains("memory")) {
    const auto& mem = j.at("memory");
    r.memory_mode = mem.at("mode").get<std::string>();
    r.memory_um2 = mem.at("area_um2").get<double>();
    r.logic_um2 = mem.at("logic_area_um2").get<double>();
    r.memory_bits = mem.at("bits").get<long long>();
    for (const auto& m : mem.at("memories")) {
      r.memories.push_back({m.at("module").get<std::string>(), m.at("role").get<std::string>(),
                            m.at("instances").get<int>(), m.at("depth").get<int>(), m.at("width").get<int>(),
                            m.at("bits").get<long long>(), m.at("area_um2").get<double>(),
                            m.at("source").get<std::string>(), m.value("clk_to_dout_ns", 0.0),
                            m.value("read_pj", -1.0), m.value("write_pj", -1.0), m.value("idle_pj_per_cycle", -1.0)});
    }
  } else {
    r.logic_um2 = r.area_um2;  // an entry written before the memory split
  }
  const auto& t = j.at("timing");
  r.timing_available = t.at("available").get<bool>();
  r.timing_note = t.at("note").get<std::string>();
  r.clock_period_ns = num(t.at("clock_period_ns"));
  r.slack_ns = num(t.at("slack_ns"));
  r.critical_startpoint = t.at("startpoint").get<std::string>();
  r.critical_endpoint = t.at("endpoint").get<std::string>();
  r.corner = t.at("corner").get<std::string>();
  r.sdc_path = t.at("sdc").get<std::string>();
  const auto& l = j.at("liberty");
  r.liberty_name = l.at("name").get<std::string>();
  r.liberty_path = l.at("path").get<std::string>();
  r.liberty_hash = l.at("hash").get<std::string>();
  r.nand2_cell = l.at("nand2_cell").get<std::string>();
  r.nand2_area = l.at("nand2_area").get<double>();
  r.yosys_version = j.at("yosys_version").get<std::string>();
  r.sta_version = j.at("sta_version").get<std::string>();
  const auto& f = j.at("flow");
  r.cache_key = f.at("cache_key").get<std::string>();
  r.from_cache = f.at("from_cache").get<bool>();
  r.synth_seconds = f.at("synth_seconds").get<double>();
  r.sta_seconds = f.at("sta_seconds").get<double>();
  r.synth_flow = f.value("synth_flow", "single-process");  // entries written before the per-module flow
  r.synth_workers = f.value("synth_workers", 1);
  r.synth_cpu_seconds = f.value("synth_cpu_seconds", 0.0);
  r.sta_cpu_seconds = f.value("sta_cpu_seconds", 0.0);
  if (f.contains("module_synth_seconds")) {
    for (const auto& m : f.at("module_synth_seconds")) {
      r.module_seconds.push_back({m.at("module").get<std::string>(), m.at("seconds").get<double>()});
      if (m.contains("cpu_seconds")) r.module_cpu_seconds.push_back(m.at("cpu_seconds").get<double>());
    }
  }
  return r;
}

double latency_ns(double cycles, double fmax_mhz) { return fmax_mhz > 0 ? cycles * 1000.0 / fmax_mhz : 0; }

}  // namespace accelgen::flows
