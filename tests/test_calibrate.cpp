#include <gtest/gtest.h>
#include "calib/calibrate.h"
TEST(CalibPlaceholder, Builds) {}
