#include "calib/calibrate.h"
