// accelgen::tb — Icarus replay cross-check. Being written.
#pragma once
