// accelgen::calib — learned runtime-pruning thresholds (issue 6). Placeholder interface; the
// implementation is being written.
#pragma once

namespace accelgen::calib {}  // namespace accelgen::calib
