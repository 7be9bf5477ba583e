// accelgen::golden — softmax/xV back-end functional model (docs/softmax.md). Being written.
#pragma once
