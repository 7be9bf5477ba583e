#include "tb/icarus.h"
