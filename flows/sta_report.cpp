#include "flows/sta_report.h"

#include <map>
#include <regex>
#include <sstream>
#include <stdexcept>

#include "flows/text_io.h"

namespace accelgen::flows {

StaSummary parse_sta_output(const std::string& log) {
  StaSummary s;
  std::istringstream in(log);
  std::map<std::string, double> periods;
  bool have_path = false;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (starts_with(line, "Error")) {
      s.error += (s.error.empty() ? "" : "; ") + trim(line);
      continue;
    }
    if (!starts_with(line, "ACCELGEN ")) continue;
    std::istringstream f(line.substr(9));
    std::string kind;
    f >> kind;
    if (kind == "clock") {
      std::string name, period;
      if (!(f >> name >> period)) throw std::runtime_error("OpenSTA output: malformed line: " + line);
      periods[name] = parse_double(period, "clock period");
    } else if (kind == "path") {
      std::string clock, slack, start, end;
      if (!(f >> clock >> slack >> start >> end))
        throw std::runtime_error("OpenSTA output: malformed line: " + line);
      if (periods.count(clock) == 0)
        throw std::runtime_error("OpenSTA output: path of an unknown clock: " + line);
      double sl = 0;
      try {
        sl = parse_double(slack, "slack");
      } catch (const std::exception&) {
        continue;  // INF: unconstrained
      }
      const double cp = periods[clock] - sl;
      if (!have_path || cp > s.period_ns - s.slack_ns) {
        s.clock = clock;
        s.period_ns = periods[clock];
        s.slack_ns = sl;
        s.startpoint = start;
        s.endpoint = end;
        have_path = true;
      }
    } else {
      throw std::runtime_error("OpenSTA output: unknown line: " + line);
    }
  }
  if (!s.error.empty()) return s;
  if (periods.empty()) {
    s.error = "no clock defined (check the SDC's create_clock and the clock port name)";
    return s;
  }
  if (!have_path) {
    s.error = "no constrained timing path";
    return s;
  }
  s.ok = true;
  return s;
}

double sdc_period_ns(const std::string& sdc) {
  static const std::regex re(R"(create_clock\b[^\n]*?-period\s+([0-9.eE+-]+))");
  std::smatch m;
  if (!std::regex_search(sdc, m, re)) return 0;
  try {
    return parse_double(m[1].str(), "SDC clock period");
  } catch (const std::exception&) {
    return 0;
  }
}

}  // namespace accelgen::flows
