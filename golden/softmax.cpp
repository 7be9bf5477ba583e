#include "golden/softmax.h"
