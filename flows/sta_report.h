// accelgen::flows — OpenSTA's side of the timing flow: the clock period of an SDC file, and the
// ACCELGEN lines flows/sta.tcl prints (one per clock, and the worst path of each clock) with any
// "Error" line of OpenSTA, reduced to the worst path of the design.
#pragma once

#include <string>

namespace accelgen::flows {

struct StaSummary {
  bool ok = false;
  std::string error;  // why not ok: OpenSTA's Error lines, no clock, no constrained path
  std::string clock;
  double period_ns = 0;
  double slack_ns = 0;
  std::string startpoint, endpoint;
};

// Parses the ACCELGEN lines that flows/sta.tcl prints (and any "Error" line of OpenSTA). Throws
// std::runtime_error naming the line on a malformed or unknown ACCELGEN line.
StaSummary parse_sta_output(const std::string& log);

// `create_clock ... -period P ...` of an SDC text: P in ns, or 0 if there is none.
double sdc_period_ns(const std::string& sdc);

}  // namespace accelgen::flows
